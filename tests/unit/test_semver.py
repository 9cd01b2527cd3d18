"""The semver rule: parsing, precedence, bump sizes and the findings a wrong bump gives."""

from __future__ import annotations

import pytest

from teamrel.errors import InputError
from teamrel.semver import Version, bump_of, check_bump, required_bump


def v(s: str) -> Version:
    return Version.parse(s)


def test_parse_and_str_round_trip() -> None:
    for s in ("0.0.1", "1.2.3", "10.20.30-rc.1+build.5", "1.0.0-alpha.beta"):
        assert str(v(s)) == s
    assert v("1.2.3-rc.1").prerelease == ("rc", 1)


@pytest.mark.parametrize("bad", ["1.2", "01.2.3", "1.2.3-", "v1.2.3", "", "1.2.3.4"])
def test_parse_refuses_non_semver(bad: str) -> None:
    with pytest.raises(InputError):
        Version.parse(bad)


def test_precedence_follows_semver_spec() -> None:
    chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.1.0",
        "2.0.0",
    ]
    parsed = [v(s) for s in chain]
    assert parsed == sorted(reversed(parsed))
    assert v("1.0.0+a") == v("1.0.0+b")


@pytest.mark.parametrize(
    ("old", "new", "bump"),
    [
        ("1.2.3", "2.0.0", "major"),
        ("1.2.3", "1.3.0", "minor"),
        ("1.2.3", "1.2.4", "patch"),
        ("1.2.3", "1.2.3", "none"),
        ("1.2.3", "1.2.2", "downgrade"),
        ("1.4.0", "2.0.0-rc.1", "major"),
        ("2.0.0-rc.1", "2.0.0", "prerelease"),
        ("0.3.1", "0.4.0", "major"),
        ("0.3.1", "0.3.2", "minor"),
        ("0.3.1", "1.0.0", "major"),
    ],
)
def test_bump_of(old: str, new: str, bump: str) -> None:
    assert bump_of(v(old), v(new)) == bump


def test_required_bump() -> None:
    assert required_bump(breaking=True, new_capability=True) == "major"
    assert required_bump(breaking=False, new_capability=True) == "minor"
    assert required_bump(breaking=False, new_capability=False) == "patch"


def test_breaking_change_shipped_as_minor_is_a_finding() -> None:
    bump, finding = check_bump("1.4.0", "1.5.0", "major")
    assert bump == "minor"
    assert finding is not None and finding.code == "bump-too-small"
    assert finding.suggested == "2.0.0"
    assert "1.4.0 -> 1.5.0" in finding.message


def test_same_version_different_content_is_a_finding() -> None:
    _, finding = check_bump("1.4.0", "1.4.0", "patch")
    assert finding is not None and finding.code == "version-not-bumped"
    assert finding.suggested == "1.4.1"
    # unchanged content keeps its version legitimately
    assert check_bump("1.4.0", "1.4.0", "patch", content_changed=False)[1] is None


def test_downgrade_and_invalid_versions_are_findings() -> None:
    assert check_bump("1.4.0", "1.3.9", "patch")[1].code == "version-downgrade"  # type: ignore[union-attr]
    bump, finding = check_bump("1.4", "1.5.0", "patch")
    assert bump is None and finding is not None and finding.code == "invalid-version"


def test_sufficient_bumps_pass() -> None:
    assert check_bump("1.4.0", "2.0.0", "major")[1] is None
    assert check_bump("1.4.0", "2.0.0", "patch")[1] is None
    assert check_bump("1.4.0", "1.5.0", "minor")[1] is None
    assert check_bump("1.4.0", "1.4.1", "patch")[1] is None
    assert check_bump("1.4.0", "1.4.1", "minor")[1] is not None


def test_below_one_uses_cargo_convention() -> None:
    assert check_bump("0.3.1", "0.4.0", "major")[1] is None
    _, finding = check_bump("0.3.1", "0.3.2", "major")
    assert finding is not None and finding.suggested == "0.4.0"
    # "0.3.1 -> 0.3.2 is a minor bump" looked wrong to a reader who sees a patch: name the rule
    assert finding.message == (
        "0.3.1 -> 0.3.2 is a minor bump (below 1.0.0, 0.y.z: y is the breaking level); "
        "a major change needs 0.4.0"
    )
    assert check_bump("0.3.1", "0.3.2", "minor")[1] is None
    _, finding = check_bump("1.4.0", "1.4.1", "major")
    assert finding is not None and "below 1.0.0" not in finding.message


def test_moving_on_from_a_prerelease_allows_any_change() -> None:
    assert check_bump("2.0.0-rc.1", "2.0.0", "major")[1] is None
    assert check_bump("2.0.0-rc.1", "2.0.0-rc.2", "major")[1] is None
    # but a pre-release of the same core after a final release is a downgrade
    assert check_bump("2.0.0", "2.0.0-rc.3", "patch")[1].code == "version-downgrade"  # type: ignore[union-attr]
