"""The release manifest: the versioned, content-addressed record of one release of a team.

Owns the `Manifest` document (its pydantic model, its digest, its JSON file form under
`manifests/<team>/<release>.json`) and the member snapshots beside it
(`manifests/<team>/snapshots/<hex>.json`: the full resolved spec of a member, exactly what its
digest was computed over), so a fresh clone can plan and diff against a release without any
state store. Reading anything back recomputes its digest and refuses a mismatch
(`IntegrityError`): a tampered manifest or snapshot is never used.

The manifest digest is sha256 over the canonical JSON of the whole document except the
`digest` key itself (see docs/manifest-format.md).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from teamrel import __version__
from teamrel.canonical import JSON, digest, sha256_hex
from teamrel.errors import FormatVersionError, InputError, IntegrityError, UsageError
from teamrel.fileio import atomic_write
from teamrel.jsonpointer import escape_token
from teamrel.models import NAME_RE, ResolvedMember, error_text

#: Major version of the manifest document this teamrel writes and reads.
MANIFEST_FORMAT_VERSION = 1

#: Workspace-relative directory holding `<team>/<release>.json` files.
MANIFESTS_DIR = "manifests"
#: Sub-directory (per team) holding content-addressed member snapshots.
SNAPSHOTS_DIR = "snapshots"

#: A content digest as teamrel writes them.
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")

#: Refuse to parse manifest or snapshot files larger than this (hostile input).
MAX_FILE_BYTES = 256 * 1024 * 1024


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelPin(_Model):
    """The LLM an agent member is pinned to, with its sampling parameters."""

    provider: str
    id: str
    parameters: dict[str, JSON] = Field(default_factory=dict)


class ManifestMember(_Model):
    """One member as a manifest pins it: enough to review a release without the snapshot."""

    kind: Literal["agent", "tool"]
    version: str
    digest: str = Field(pattern=DIGEST_RE.pattern)
    model: ModelPin | None = None
    prompt_digest: str | None = None
    tools: list[str] = Field(default_factory=list)
    #: schema role -> SchemaDoc digest: `input`, `output` (agents), `input_schema`,
    #: `output_schema` (tools), `tools/<name>/call`, `tools/<name>/result` (declared tool uses)
    schemas: dict[str, str] = Field(default_factory=dict)


class Manifest(_Model):
    """A release of a team: every member pinned by digest, plus who, when and what it passed."""

    format_version: int = MANIFEST_FORMAT_VERSION
    teamrel_version: str
    team: str
    release: str
    created_at: str
    created_by: str
    parent: str | None = None
    members: dict[str, ManifestMember]
    check: dict[str, JSON] | None = None
    allow_incompatible: str | None = None
    #: the team's flags pinned with the release (docs/flags.md); absent when none is declared,
    #: so manifests of teams without flags are byte-identical to what they were before flags
    flags: dict[str, JSON] | None = None
    digest: str = Field(pattern=DIGEST_RE.pattern)

    def body(self) -> dict[str, JSON]:
        """The JSON document without `digest`: what the digest is computed over."""
        doc = self.model_dump(mode="json", exclude={"digest"})
        if doc.get("flags") is None:
            doc.pop("flags", None)
        return doc

    def to_json(self) -> dict[str, JSON]:
        """The full JSON document, `digest` last."""
        doc = self.body()
        doc["digest"] = self.digest
        return doc

    @property
    def member_digests(self) -> dict[str, str]:
        """Member name -> member digest."""
        return {name: m.digest for name, m in self.members.items()}

    @property
    def content_key(self) -> str:
        """Digest of what the release *contains* (team and member digests), not when/who.

        Two releases with the same content key ship exactly the same team; `release` uses
        it to be idempotent.
        """
        return content_key(self.team, self.member_digests, self.flags)

    @property
    def label(self) -> str:
        """`release (digest prefix)` for messages."""
        return f"{self.release} ({self.digest.removeprefix('sha256:')[:12]})"


def content_key(
    team: str, member_digests: Mapping[str, str], flags: Mapping[str, JSON] | None = None
) -> str:
    """The content key of a team made of these members (see `Manifest.content_key`); the flag
    definitions count only when there are some (so existing content keys do not move)."""
    doc: dict[str, JSON] = {"team": team, "members": dict(member_digests)}
    if flags is not None:
        doc["flags"] = flags.get("definitions")
    return digest(doc)


# --------------------------------------------------------------------------- building


def _schema_digest(value: JSON, memo: dict[int, str] | None) -> str | None:
    if not isinstance(value, dict):
        return None
    if memo is None:
        return digest(value)
    # members loaded together share schema objects: hash each object once per manifest
    found = memo.get(id(value))
    if found is None:
        found = memo[id(value)] = digest(value)
    return found


def manifest_member(member: ResolvedMember, memo: dict[int, str] | None = None) -> ManifestMember:
    """The manifest entry of a resolved member (digests of its prompt, schemas and tools).

    `memo` (id of a schema object -> digest) may be shared across the members of one
    manifest while they are alive, so a schema object shared by many members is hashed once.
    """
    spec = member.spec
    model: ModelPin | None = None
    raw_model = spec.get("model")
    if isinstance(raw_model, dict):
        model = ModelPin(
            provider=str(raw_model.get("provider", "")),
            id=str(raw_model.get("id", "")),
            parameters=dict(raw_model.get("parameters") or {}),
        )
    prompt_digest: str | None = None
    prompt = spec.get("prompt")
    if isinstance(prompt, dict):
        raw = prompt.get("sha256")
        if isinstance(raw, str) and raw:
            prompt_digest = raw if raw.startswith("sha256:") else f"sha256:{raw}"
        elif isinstance(prompt.get("text"), str):
            prompt_digest = sha256_hex(str(prompt["text"]).encode("utf-8"))
    elif isinstance(prompt, str):
        prompt_digest = sha256_hex(prompt.encode("utf-8"))
    schemas: dict[str, str] = {}
    for role in ("input", "output", "input_schema", "output_schema"):
        d = _schema_digest(spec.get(role), memo)
        if d is not None:
            schemas[role] = d
    for use in spec.get("tools") or []:
        if isinstance(use, dict) and "tool" in use:
            for part in ("call", "result"):
                d = _schema_digest(use.get(part), memo)
                if d is not None:
                    schemas[f"tools/{use['tool']}/{part}"] = d
    return ManifestMember(
        kind=member.kind,
        version=member.version,
        digest=member.digest,
        model=model,
        prompt_digest=prompt_digest,
        tools=member.tools,
        schemas=schemas,
    )


def build_manifest(
    team: str,
    release: str,
    members: Mapping[str, ResolvedMember],
    *,
    created_at: str,
    created_by: str,
    parent: str | None = None,
    check: Mapping[str, JSON] | None = None,
    allow_incompatible: str | None = None,
    flags: Mapping[str, JSON] | None = None,
) -> Manifest:
    """A new manifest pinning `members` (in the given order), with its digest computed
    (`flags`: the `teamrel.flags.manifest_section`, only when flags are declared)."""
    check_name(team, "team")
    check_name(release, "release")
    memo: dict[int, str] = {}
    body: dict[str, JSON] = {
        "format_version": MANIFEST_FORMAT_VERSION,
        "teamrel_version": __version__,
        "team": team,
        "release": release,
        "created_at": created_at,
        "created_by": created_by,
        "parent": parent,
        "members": {
            name: manifest_member(m, memo).model_dump(mode="json") for name, m in members.items()
        },
        "check": dict(check) if check is not None else None,
        "allow_incompatible": allow_incompatible,
    }
    if flags is not None:
        body["flags"] = dict(flags)
    return Manifest.model_validate({**body, "digest": digest(body)})


def check_name(name: str, what: str) -> str:
    """`name` if it is a safe team/release/environment name, else a UsageError."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise UsageError(
            f"invalid {what} name {name!r}: use letters, digits, '.', '_' or '-' "
            "(1-128 characters, starting with a letter or digit)"
        )
    return name


# --------------------------------------------------------------------------- reading


def _pointer(loc: tuple[int | str, ...]) -> str:
    return "/" + "/".join(escape_token(str(p)) for p in loc)


def manifest_from_json(doc: Any, where: str) -> Manifest:
    """Validate a parsed manifest document and check its digest; `where` names it in errors."""
    if not isinstance(doc, dict):
        raise InputError(f"{where}: a manifest is a JSON object")
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InputError(f"{where}#/format_version: missing or not an integer")
    if version > MANIFEST_FORMAT_VERSION:
        raise FormatVersionError(
            f"{where}: manifest format_version {version} is newer than this teamrel "
            f"({__version__}) can read (up to {MANIFEST_FORMAT_VERSION})",
            hint="upgrade teamrel",
        )
    try:
        manifest = Manifest.model_validate(doc)
    except ValidationError as err:
        first = err.errors()[0]
        raise InputError(
            f"{where}#{_pointer(tuple(first['loc']))}: {error_text(first)}"
            + (f" (and {err.error_count() - 1} more problems)" if err.error_count() > 1 else "")
        ) from None
    body = {k: v for k, v in doc.items() if k != "digest"}
    try:
        actual = digest(body)
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply") from None
    if actual != manifest.digest:
        raise IntegrityError(
            f"{where}: manifest content does not match its digest "
            f"(recorded {manifest.digest}, computed {actual}): the file was modified",
            hint="restore it from version control; never edit a manifest by hand",
        )
    for name in manifest.members:
        if not NAME_RE.fullmatch(name):
            raise InputError(f"{where}#/members: invalid member name {name!r}")
    return manifest


def _read_json_file(path: Path) -> Any:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path}: file too large ({size} bytes, limit {MAX_FILE_BYTES})")
    raw = path.read_bytes()
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 ({err.reason} at byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise InputError(f"{path}:{err.lineno}:{err.colno}: invalid JSON: {err.msg}") from None
    except RecursionError:
        raise InputError(f"{path}: JSON nested too deeply") from None


def read_manifest(path: Path) -> Manifest:
    """Read a manifest file, recompute its digest and refuse it (IntegrityError) if tampered."""
    return manifest_from_json(_read_json_file(path), str(path))


def manifest_dir(root: Path, team: str) -> Path:
    """`<root>/manifests/<team>`."""
    return root / MANIFESTS_DIR / check_name(team, "team")


def manifest_path(root: Path, team: str, release: str) -> Path:
    """`<root>/manifests/<team>/<release>.json`."""
    return manifest_dir(root, team) / f"{check_name(release, 'release')}.json"


def list_manifests(root: Path, team: str) -> list[Manifest]:
    """Every manifest file of `team` under `root/manifests/`, oldest first.

    Each is verified: a tampered file, or one whose name, team or release disagree with its
    content, raises rather than being silently skipped.
    """
    directory = manifest_dir(root, team)
    if not directory.is_dir():
        return []
    out: list[Manifest] = []
    for path in sorted(directory.glob("*.json")):
        manifest = read_manifest(path)
        if manifest.team != team or manifest.release != path.stem:
            raise IntegrityError(
                f"{path}: holds release {manifest.release!r} of team {manifest.team!r}; "
                f"expected release {path.stem!r} of team {team!r}"
            )
        out.append(manifest)
    out.sort(key=lambda m: (m.created_at, m.release))
    return out


def latest_manifest(root: Path, team: str) -> Manifest | None:
    """The newest manifest file of `team` (by `created_at`), or None when there is none."""
    manifests = list_manifests(root, team)
    return manifests[-1] if manifests else None


# --------------------------------------------------------------------------- snapshots


def check_digest(value: str) -> str:
    """`value` if it is a well-formed `sha256:<64 hex>` digest, else an InputError."""
    if not isinstance(value, str) or not DIGEST_RE.fullmatch(value):
        raise InputError(f"not a sha256 digest: {value!r}")
    return value


def snapshot_path(root: Path, team: str, member_digest: str) -> Path:
    """`<root>/manifests/<team>/snapshots/<hex>.json`."""
    hex_part = check_digest(member_digest).removeprefix("sha256:")
    return manifest_dir(root, team) / SNAPSHOTS_DIR / f"{hex_part}.json"


def member_from_spec(
    spec: Any,
    member_digest: str,
    *,
    where: str,
    name: str = "",
    kind: Literal["agent", "tool"] | None = None,
    version: str | None = None,
    text_verified: bool = False,
) -> ResolvedMember:
    """A ResolvedMember from a stored spec, after checking the spec hashes to `member_digest`.

    `text_verified`: `spec` was parsed from canonical text whose own sha256 was just checked
    against `member_digest` (the store's snapshots), so encoding it again to hash it would
    only cost time (most of resolving a large team).
    """
    if not isinstance(spec, dict):
        raise IntegrityError(f"{where}: a member snapshot is a JSON object")
    if text_verified:
        actual = member_digest
    else:
        try:
            actual = digest(spec)
        except RecursionError:
            raise InputError(f"{where}: JSON nested too deeply") from None
    if actual != member_digest:
        raise IntegrityError(
            f"{where}: snapshot content does not match its digest "
            f"(expected {member_digest}, computed {actual}): it was modified"
        )
    raw_kind = spec.get("kind")
    the_kind: Literal["agent", "tool"]
    if kind is not None:
        the_kind = kind
    elif raw_kind in ("agent", "tool"):
        the_kind = "tool" if raw_kind == "tool" else "agent"
    else:
        the_kind = "tool" if "input_schema" in spec else "agent"
    return ResolvedMember(
        name=name,
        kind=the_kind,
        version=version if version is not None else str(spec.get("version", "")),
        spec=spec,
        digest=member_digest,
    )


def read_snapshot(root: Path, team: str, member_digest: str, *, name: str = "") -> ResolvedMember:
    """The member snapshot stored beside the team's manifests; verifies its digest."""
    path = snapshot_path(root, team, member_digest)
    if not path.is_file():
        raise IntegrityError(f"{path}: snapshot of member {member_digest} is missing")
    return member_from_spec(_read_json_file(path), member_digest, where=str(path), name=name)


def pinned_members(
    manifest: Manifest, loader: Callable[[str], ResolvedMember]
) -> dict[str, ResolvedMember]:
    """Every member of `manifest` as pinned, loaded by digest through `loader`.

    `loader` is e.g. `functools.partial(read_snapshot, root, team)` or `store.snapshot`.
    """
    out: dict[str, ResolvedMember] = {}
    for name, entry in manifest.members.items():
        member = loader(entry.digest)
        if member.digest != entry.digest:
            raise IntegrityError(
                f"release {manifest.release}: member {name} loaded as {member.digest}, "
                f"pinned as {entry.digest}"
            )
        out[name] = member.model_copy(
            update={"name": name, "kind": entry.kind, "version": entry.version}
        )
    return out


# --------------------------------------------------------------------------- writing


def manifest_file_bytes(manifest: Manifest) -> bytes:
    """The exact bytes teamrel writes for a manifest file (deterministic)."""
    return (json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def snapshot_file_bytes(spec: Mapping[str, JSON]) -> bytes:
    """The exact bytes teamrel writes for a snapshot file (deterministic, sorted keys)."""
    return (json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def write_snapshot(root: Path, team: str, member: ResolvedMember) -> Path:
    """Write a member snapshot unless an identical one is there already; returns its path."""
    path = snapshot_path(root, team, member.digest)
    if path.is_file():
        # content-addressed: an existing file is this snapshot, or evidence of tampering that
        # `teamrel verify` and every reader (read_snapshot re-hashes) report; never rewritten
        return path
    atomic_write(path, snapshot_file_bytes(member.spec), durable=False)
    return path


def write_manifest(root: Path, manifest: Manifest) -> Path:
    """Write `manifests/<team>/<release>.json` (atomically); returns its path.

    Refuses to replace an existing file that holds a different release under the same name.
    """
    path = manifest_path(root, manifest.team, manifest.release)
    data = manifest_file_bytes(manifest)
    if path.is_file():
        if path.read_bytes() == data:
            return path
        # A tampered file raises here: it is evidence for `verify`, never silently replaced.
        existing = read_manifest(path)
        if existing.digest != manifest.digest:
            raise IntegrityError(
                f"{path}: already holds a different release {existing.label}; "
                f"refusing to overwrite it with {manifest.label}"
            )
        return path  # the same release, formatted differently: leave it alone
    atomic_write(path, data)
    return path


# --------------------------------------------------------------------------- reading one member

#: What follows a member's name in a canonical manifest: keys are sorted, so an entry's first
#: key is always its (mandatory) `digest`.
_ENTRY_HEAD = '":{"digest":"sha256:'

_DECODER = json.JSONDecoder()


class PinnedEntry(NamedTuple):
    """How a manifest pins one member: its snapshot digest, kind and version."""

    digest: str
    kind: Literal["agent", "tool"]
    version: str


class ManifestText:
    """A manifest's verified canonical text, read one member at a time (runtimes, `resolve`).

    Finding one member is a substring search plus decoding that member's entry: no cost
    proportional to the team. Anything that needs every member (iteration, `len`, the
    `Manifest` model) parses the whole text once.
    """

    def __init__(
        self,
        digest: str,
        release: str,
        body: str,
        index: Callable[[str], str | None],
    ) -> None:
        self.digest = digest
        self.release = release
        self._body = body
        self._index = index
        self._span: tuple[int, int] | None = _members_span(body)
        self._entries: dict[str, PinnedEntry | None] = {}
        self._manifest: Manifest | None = None
        self._all: dict[str, PinnedEntry] | None = None
        self._lock = threading.Lock()

    @property
    def body(self) -> str:
        """The manifest's canonical JSON text (verified against its digest when read)."""
        return self._body

    def entry(self, name: str) -> PinnedEntry | None:
        """The manifest entry of member `name`, or None when it is not a member."""
        if self._all is not None:
            return self._all.get(name)
        if name in self._entries:
            return self._entries[name]
        found = self._find(name)
        self._entries[name] = found
        return found

    def _find(self, name: str) -> PinnedEntry | None:
        if self._span is None:
            return self.all_entries().get(name)
        start, end = self._span
        needle = '"' + name + _ENTRY_HEAD
        pos = self._body.find(needle, start, end)
        if pos < 0:
            return None
        if self._body.find(needle, pos + 1, end) >= 0:
            # the same text occurs again (inside some member's model parameters): only a full
            # parse can tell which one is the entry
            return self.all_entries().get(name)
        try:
            doc, _ = _DECODER.raw_decode(self._body, pos + len(name) + 3)
            entry = _entry(doc)
        except (ValueError, KeyError, TypeError):
            return self.all_entries().get(name)
        # a lone match could still be a look-alike nested in a member's parameters: the member
        # index must agree (tampering would need both a crafted manifest and a modified index)
        if self._index(name) != entry.digest:
            return self.all_entries().get(name)
        return entry

    def all_entries(self) -> dict[str, PinnedEntry]:
        """Every member's entry, in manifest order (parses the whole text, once)."""
        if self._all is None:
            manifest = self.manifest()
            self._all = {
                n: PinnedEntry(e.digest, e.kind, e.version) for n, e in manifest.members.items()
            }
        return self._all

    def manifest(self) -> Manifest:
        """The full `Manifest` model (parsed once, on first use)."""
        with self._lock:
            if self._manifest is None:
                doc = json.loads(self._body)
                doc["digest"] = self.digest
                self._manifest = Manifest.model_validate(doc)
            return self._manifest


def _members_span(body: str) -> tuple[int, int] | None:
    """Where the top-level `members` object of a canonical manifest starts and ends, found by
    decoding only the (small) top-level values sorted before it; None if the text is not laid
    out as expected (the caller then parses it whole)."""
    try:
        if not body.startswith("{"):
            return None
        i = 1
        while True:
            key, i = _DECODER.raw_decode(body, i)
            if body[i] != ":":
                return None
            i += 1
            if key == "members":
                # `parent`, `release`, `team`, `teamrel_version` follow: plain values, so the
                # last `,"parent":` in the text is the top-level one
                end = body.rfind(',"parent":')
                if body[i] != "{" or end <= i or body[end - 1] != "}":
                    return None
                return i, end
            _, i = _DECODER.raw_decode(body, i)
            if body[i] != ",":
                return None
            i += 1
    except (ValueError, IndexError):
        return None


def _entry(doc: Any) -> PinnedEntry:
    kind = doc["kind"]
    if kind not in ("agent", "tool"):
        raise ValueError(kind)
    return PinnedEntry(
        str(doc["digest"]), "tool" if kind == "tool" else "agent", str(doc["version"])
    )
