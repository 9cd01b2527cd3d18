"""Semantic Versioning 2.0.0 for member versions, and teamrel's bump rule.

Owns: parsing and precedence of versions (`Version`), the size of the bump between two
versions (`bump_of`), the bump a change requires (`required_bump`), and the check that a
member's new version honours it (`check_bump`), returning a finding (never raising) when it
does not.

The rule (docs/check.md, "Semver rule"):
- a breaking change (a handoff no longer holds because of it) needs a MAJOR bump;
- a widened input, a widened output (the member may now send something new) or a new tool
  is a new capability and needs at least MINOR;
- anything else (prompt, model, parameters, metadata, a narrowed output...) needs at least PATCH;
- the same version with different content (same version, different digest) is always a finding.

Versions below 1.0.0 follow the Cargo convention, because SemVer itself promises nothing
there: in 0.y.z the minor number plays the role of MAJOR and the patch number that of MINOR
(0.y.z -> 0.(y+1).0 may break). A pre-release of the next version (2.0.0-rc.1 after 1.4.0)
counts as the bump of its core version.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import total_ordering
from typing import Literal

from teamrel.errors import InputError
from teamrel.models import SEMVER_RE

Level = Literal["major", "minor", "patch"]
#: What happened between two versions: a bump level, nothing, or a step back.
Bump = Literal["major", "minor", "patch", "prerelease", "none", "downgrade"]

_RANK: dict[str, int] = {"none": 0, "prerelease": 0, "patch": 1, "minor": 2, "major": 3}


@total_ordering
@dataclass(frozen=True)
class Version:
    """A parsed semantic version; ordering is SemVer precedence (build metadata ignored)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[int | str, ...] = ()
    build: str | None = None

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse `text`; `InputError` when it is not a semantic version."""
        m = SEMVER_RE.match(text)
        if m is None:
            raise InputError(f"{text!r} is not a semantic version (MAJOR.MINOR.PATCH)")
        pre: tuple[int | str, ...] = ()
        if m.group(4):
            pre = tuple(int(p) if p.isdigit() else p for p in m.group(4).split("."))
        return cls(int(m.group(1)), int(m.group(2)), int(m.group(3)), pre, m.group(5))

    @property
    def core(self) -> tuple[int, int, int]:
        """(major, minor, patch)."""
        return (self.major, self.minor, self.patch)

    def _key(self) -> tuple[tuple[int, int, int], int, tuple[tuple[int, int | str], ...]]:
        # A version without pre-release ranks above any of its pre-releases; numeric
        # identifiers rank below alphanumeric ones (SemVer 2.0.0 section 11).
        pre = tuple((0, p) if isinstance(p, int) else (1, p) for p in self.prerelease)
        return (self.core, 0 if self.prerelease else 1, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        s = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            s += "-" + ".".join(str(p) for p in self.prerelease)
        if self.build:
            s += "+" + self.build
        return s

    def bumped(self, level: Level) -> Version:
        """The smallest release version that is a `level` bump of this one."""
        major, minor, patch = self.core
        if major == 0:  # Cargo convention: shift the levels down by one below 1.0.0
            if level == "major":
                return Version(0, minor + 1, 0)
            if level == "minor":
                return Version(0, minor, patch + 1)
            return Version(0, minor, patch + 1)
        if level == "major":
            return Version(major + 1, 0, 0)
        if level == "minor":
            return Version(major, minor + 1, 0)
        return Version(major, minor, patch + 1)


def bump_of(old: Version, new: Version) -> Bump:
    """How `new` relates to `old`: the level bumped, `none`, `prerelease`, or `downgrade`."""
    if new < old:
        return "downgrade"
    if new.core == old.core:
        return "none" if new == old else "prerelease"
    if old.major == 0 and new.major == 0:
        if new.minor != old.minor:
            return "major"
        return "minor"  # 0.y.z -> 0.y.(z+1): an additive change under the Cargo convention
    if new.major != old.major:
        return "major"
    if new.minor != old.minor:
        return "minor"
    return "patch"


def required_bump(*, breaking: bool, new_capability: bool) -> Level:
    """The smallest bump a change needs under teamrel's rule."""
    if breaking:
        return "major"
    if new_capability:
        return "minor"
    return "patch"


def satisfies(bump: Bump, required: Level) -> bool:
    """Whether a bump of size `bump` is large enough for `required`."""
    if bump in ("none", "downgrade"):
        return False
    if bump == "prerelease":
        return False
    return _RANK[bump] >= _RANK[required]


@dataclass(frozen=True)
class BumpFinding:
    """A version that does not honour the bump rule."""

    code: Literal["version-not-bumped", "bump-too-small", "version-downgrade", "invalid-version"]
    message: str
    suggested: str | None = None


def check_bump(
    old_version: str, new_version: str, required: Level, *, content_changed: bool = True
) -> tuple[Bump | None, BumpFinding | None]:
    """Check the step from `old_version` to `new_version` against the `required` level.

    Returns the observed bump (None when a version does not parse) and a finding or None.
    With `content_changed=False` (same digest) any version is fine, even an unchanged one.
    """
    try:
        old = Version.parse(old_version)
        new = Version.parse(new_version)
    except InputError as err:
        return None, BumpFinding("invalid-version", err.message)
    bump = bump_of(old, new)
    if not content_changed:
        return bump, None
    suggested = str(old.bumped(required))
    if bump == "downgrade":
        return bump, BumpFinding(
            "version-downgrade",
            f"version went backwards: {old} -> {new}; a {required} change needs {suggested}",
            suggested,
        )
    if bump == "none":
        return bump, BumpFinding(
            "version-not-bumped",
            f"content changed but the version is still {new}; a {required} change needs "
            f"at least {suggested}",
            suggested,
        )
    if satisfies(bump, required):
        return bump, None
    if bump == "prerelease" and old.prerelease:
        # A pre-release promises nothing: moving on from 2.0.0-rc.1 (to rc.2 or 2.0.0) may
        # carry any change.
        return bump, None
    if bump == "prerelease":
        return bump, BumpFinding(
            "bump-too-small",
            f"{old} -> {new} only changes the pre-release; a {required} change needs {suggested}",
            suggested,
        )
    # Below 1.0.0 the levels shift (Cargo): 0.1.0 -> 0.1.1 is a "minor" step, which reads as
    # a mistake to anyone who sees a patch bump unless the rule is named.
    rule = " (below 1.0.0, 0.y.z: y is the breaking level)" if old.major == 0 else ""
    return bump, BumpFinding(
        "bump-too-small",
        f"{old} -> {new} is a {bump} bump{rule}; a {required} change needs {suggested}",
        suggested,
    )
