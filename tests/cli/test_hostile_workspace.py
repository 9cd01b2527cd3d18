"""Hostile and broken workspaces, end to end: every command answers with a located message and
the documented exit code (validate 1; check, plan and graph 3; a bad -C 2), never a traceback.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from clikit import cli_runner

from teamrel.cli.app import app

runner = cli_runner()


def run(root: Path | str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["-C", str(root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.stdout + result.stderr


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _prompt_escapes(root: Path) -> None:
    edit(root / "teamrel.yaml", "prompt: prompts/intake.md", "prompt: ../../etc/passwd")


def _symlinked_contract(root: Path) -> None:
    (root / "contracts" / "evil.json").symlink_to("/etc/hostname")
    edit(root / "teamrel.yaml", "contract: contracts/ticket.json", "contract: contracts/evil.json")


def _prompt_is_a_directory(root: Path) -> None:
    (root / "prompts" / "intake.md").unlink()
    (root / "prompts" / "intake.md").mkdir()


def _contract_is_a_directory(root: Path) -> None:
    (root / "contracts" / "ticket.json").unlink()
    (root / "contracts" / "ticket.json").mkdir()


def _ref_to_itself(root: Path) -> None:
    (root / "contracts" / "ticket.json").write_text('{"$ref": "#"}')


def _nested_500_deep(root: Path) -> None:
    text = '{"type":"object","properties":{"a":' * 500 + '{"type":"string"}' + "}}" * 500
    (root / "contracts" / "ticket.json").write_text(text)


def _nested_200_deep(root: Path) -> None:  # parses as JSON, too deep as a schema
    text = '{"type":"object","properties":{"a":' * 200 + '{"type":"string"}' + "}}" * 200
    (root / "contracts" / "ticket.json").write_text(text)


def _name_with_slash(root: Path) -> None:
    edit(root / "teamrel.yaml", "\n  intake:", "\n  in/take:")


def _name_dotdot(root: Path) -> None:
    edit(root / "teamrel.yaml", "\n  intake:", "\n  ..:")


def _not_utf8(root: Path) -> None:
    (root / "teamrel.yaml").write_bytes(b"team: sup\xff\xfeport\n")


def _nul_byte(root: Path) -> None:
    (root / "teamrel.yaml").write_bytes(b"team: support\nmembers: {a\x00: {}}\n")


def _empty(root: Path) -> None:
    (root / "teamrel.yaml").write_text("")


def _a_list(root: Path) -> None:
    (root / "teamrel.yaml").write_text("- team\n- members\n")


def _alias_bomb(root: Path) -> None:
    lines = ["team: support", 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    (root / "teamrel.yaml").write_text("\n".join([*lines, "members: {}", ""]))


def _yaml_nested_1000_deep(root: Path) -> None:
    (root / "teamrel.yaml").write_text("team: support\nmembers: " + "[" * 1000 + "]" * 1000 + "\n")


def _yaml_nested_200000_deep(root: Path) -> None:
    (root / "teamrel.yaml").write_text("team: support\nmembers:\n" + "- " * 200_000 + "x\n")


#: (breakage, text every command's message must contain)
CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "prompt-escapes": (_prompt_escapes, "#/members/intake/prompt: prompt '../../etc/passwd'"),
    "symlink-outside": (_symlinked_contract, "resolves outside the workspace"),
    "prompt-is-dir": (_prompt_is_a_directory, "'prompts/intake.md' is a directory, not a file"),
    "contract-is-dir": (
        _contract_is_a_directory,
        "'contracts/ticket.json' is a directory, not a file",
    ),
    "ref-to-itself": (_ref_to_itself, "contracts/ticket.json:1 #: circular $ref"),
    "nested-500": (
        _nested_500_deep,
        "contracts/ticket.json #: JSON nested too deeply (schemas may nest at most 128 levels)",
    ),
    "nested-200": (
        _nested_200_deep,
        "contracts/ticket.json #: schema nested deeper than 128 levels",
    ),
    "name-slash": (_name_with_slash, "#/members/in~1take: invalid member name 'in/take'"),
    "name-dotdot": (_name_dotdot, "#/members/..: invalid member name '..'"),
    "not-utf8": (_not_utf8, "teamrel.yaml:1: not UTF-8 (byte 9: b'\\xff')"),
    "nul-byte": (_nul_byte, "teamrel.yaml:2: invalid YAML: control character U+0000"),
    "empty": (_empty, "teamrel.yaml must be a mapping"),
    "a-list": (_a_list, "teamrel.yaml:1 #: teamrel.yaml must be a mapping"),
    "alias-bomb": (_alias_bomb, "YAML aliases expand to more than"),
    "yaml-nested-1000": (
        _yaml_nested_1000_deep,
        "teamrel.yaml:2 #/members: nesting deeper than 200 levels",
    ),
    "yaml-nested-200000": (
        _yaml_nested_200000_deep,
        "teamrel.yaml:3 #/members: nesting deeper than 200 levels",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_breakage_is_located_with_the_right_exit_code(case: str, demo_copy: Path) -> None:
    if case == "symlink-outside" and not hasattr(os, "symlink"):
        pytest.skip("no symlinks")
    breakage, needle = CASES[case]
    breakage(demo_copy)
    code, validated = run(demo_copy, "validate")
    assert code == 1 and needle in validated, validated
    for command in ("check", "plan", "graph"):
        code, out = run(demo_copy, command)
        assert code == 3 and needle in out and "Traceback" not in out, (command, out)
        # the first problem used to be printed twice
        assert out.count(needle) == validated.count(needle), out


def test_oversized_contract_is_refused_quickly(demo_copy: Path) -> None:
    # 6 MB, over the 5 MB cap: it used to be parsed whole anyway, to find a line number
    big = '{"type": "object", "description": "' + "x" * (6 * 1024 * 1024) + '"}'
    (demo_copy / "contracts" / "ticket.json").write_text(big)
    start = time.perf_counter()
    code, out = run(demo_copy, "validate")
    assert code == 1, out
    assert "contracts/ticket.json #: schema file larger than" in out
    assert time.perf_counter() - start < 5


def test_workspace_option_naming_a_file_is_a_usage_error(demo_copy: Path) -> None:
    code, out = run(demo_copy / "teamrel.yaml", "validate")
    assert code == 2 and "is a file" in out and "Traceback" not in out
