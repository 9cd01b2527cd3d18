"""YAML reading: data, line map, duplicate keys, unsafe tags, bombs, size caps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from teamrel import yamlsrc
from teamrel.yamlsrc import MAX_DEPTH, YamlError, load_yaml, parse_yaml, pointer


def test_data_and_lines() -> None:
    doc = parse_yaml("team: t\nmembers:\n  a:\n    version: 1.0.0\n    tools: [x, y]\n", "f.yaml")
    assert doc.data == {"team": "t", "members": {"a": {"version": "1.0.0", "tools": ["x", "y"]}}}
    assert doc.lines["/team"] == 1
    assert doc.lines["/members/a"] == 3
    assert doc.lines["/members/a/version"] == 4
    assert doc.lines["/members/a/tools/1"] == 5
    assert doc.line_of("/members/a/nothing/here") == 3
    assert doc.diagnostics == []


def test_scalars_are_json_types() -> None:
    doc = parse_yaml("a: 1\nb: 1.5\nc: true\nd: null\ne: '1.0'\nf: 2024-01-01\ng: 0x10\n", "f")
    assert doc.data == {
        "a": 1,
        "b": 1.5,
        "c": True,
        "d": None,
        "e": "1.0",
        "f": "2024-01-01",
        "g": 16,
    }


def test_keys_are_strings() -> None:
    doc = parse_yaml("1: a\ntrue: b\n", "f")
    assert doc.data == {"1": "a", "true": "b"}


def test_escaped_pointer() -> None:
    doc = parse_yaml('"a/b": {"~c": 1}\n', "f")
    assert doc.lines[pointer("a/b", "~c")] == 1
    assert pointer("a/b", "~c") == "/a~1b/~0c"


def test_duplicate_keys_reported_first_wins() -> None:
    doc = parse_yaml("members:\n  a: 1\n  b: 2\n  a: 3\n", "t.yaml")
    assert doc.data == {"members": {"a": 1, "b": 2}}
    (d,) = doc.diagnostics
    assert d.code == "duplicate-key"
    assert (d.file, d.line, d.pointer) == ("t.yaml", 4, "/members/a")
    assert "line 2" in d.message


def test_custom_tags_refused() -> None:
    doc = parse_yaml("a: !include other.yaml\nb: !!python/object:os.system x\n", "t.yaml")
    assert doc.data == {"a": None, "b": None}
    assert [d.pointer for d in doc.diagnostics] == ["/a", "/b"]
    assert all("tag" in d.message for d in doc.diagnostics)


def test_nan_refused() -> None:
    doc = parse_yaml("a: .nan\nb: -.inf\n", "t.yaml")
    assert len(doc.diagnostics) == 2


def test_anchors_and_merge_keys() -> None:
    doc = parse_yaml("base: &b {x: 1, y: 2}\nuse: {<<: *b, y: 3}\nalias: *b\n", "t.yaml")
    assert doc.data["use"] == {"x": 1, "y": 3}
    assert doc.data["alias"] == {"x": 1, "y": 2}
    assert doc.diagnostics == []


def test_alias_bomb() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(8):
        prev = "a" if i == 0 else f"l{i - 1}"
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(YamlError) as info:
        parse_yaml("\n".join(lines), "bomb.yaml")
    assert "aliases" in info.value.message
    assert info.value.diagnostics[0].file == "bomb.yaml"


def test_syntax_error_has_line() -> None:
    with pytest.raises(YamlError) as info:
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "t.yaml")
    (d,) = info.value.diagnostics
    assert d.file == "t.yaml" and d.line is not None and d.line >= 2


def test_control_character_and_bad_encoding_name_the_line(tmp_path: Path) -> None:
    # was: 'invalid YAML: unacceptable character #x0000 ... in "<unicode string>", position 9'
    with pytest.raises(YamlError) as info:
        parse_yaml("team: a\nb: sup\x00x\n", "t.yaml")
    (d,) = info.value.diagnostics
    assert (d.code, d.line) == ("yaml", 2)
    assert d.message == "invalid YAML: control character U+0000 is not allowed"
    p = tmp_path / "t.yaml"
    p.write_bytes(b"team: a\nmembers:\n  b\xff: {}\n")
    with pytest.raises(YamlError) as info:
        load_yaml(p)
    (d,) = info.value.diagnostics
    assert (d.code, d.line) == ("encoding", 3) and "byte 20" in d.message


def test_deep_nesting_refused() -> None:
    with pytest.raises(YamlError):
        parse_yaml("a: " + "[" * 300 + "]" * 300, "t.yaml")


def test_empty_document() -> None:
    assert parse_yaml("", "t.yaml").data is None


def test_load_yaml_caps_and_encoding(tmp_path: Path) -> None:
    p = tmp_path / "t.yaml"
    p.write_text("a: " + "x" * 100)
    with pytest.raises(YamlError) as info:
        load_yaml(p, max_bytes=50)
    assert info.value.diagnostics[0].code == "too-large"
    p.write_bytes(b"a: \xff\n")
    with pytest.raises(YamlError) as info:
        load_yaml(p)
    assert info.value.diagnostics[0].code == "encoding"
    with pytest.raises(YamlError) as info:
        load_yaml(tmp_path / "missing.yaml")
    assert info.value.diagnostics[0].code == "io"
    p.write_bytes(b"\xef\xbb\xbfa: 1\n")  # a UTF-8 BOM is fine
    assert load_yaml(p).data == {"a": 1}


@pytest.mark.parametrize("depth", [1_000, 200_000])
@pytest.mark.parametrize(
    ("make", "line"),
    [
        (lambda n: "a: " + "[" * n + "]" * n, 1),  # flow sequences
        (lambda n: "a: " + "{k: " * n + "1" + "}" * n, 1),  # flow mappings
        (lambda n: "a:\n" + "- " * n + "x\n", 2),  # block sequences on one line
    ],
)
@pytest.mark.parametrize("loader", ["default", "pure-python"])
def test_very_deep_nesting_is_refused_in_teamrels_words(
    depth: int, make: Any, line: int, loader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # libyaml's recursive composer overflows the C stack on this, and PyYAML >= 6.0.4 refuses
    # deep flow nesting in its own scanner first: whichever layer refuses, the user reads the
    # same located error
    if loader == "pure-python":
        monkeypatch.setattr(yamlsrc, "_Loader", yaml.SafeLoader)
    with pytest.raises(YamlError) as info:
        parse_yaml(make(depth), "t.yaml")
    assert info.value.message == f"t.yaml:{line}: nesting deeper than {MAX_DEPTH} levels"
    (diag,) = info.value.diagnostics
    assert (diag.file, diag.line, diag.code) == ("t.yaml", line, "yaml")
    assert diag.pointer == "/a"


def test_the_yaml_librarys_own_depth_limit_is_reported_as_teamrels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the refusal as PyYAML 6.0.4's libyaml scanner raises it, before any event reaches the
    # builder; older PyYAML never raises it, so it is reproduced here for every version
    class RefusingLoader(yaml.SafeLoader):
        def check_event(self, *choices: Any) -> bool:
            mark = yaml.Mark("<unicode string>", 1002, 0, 1002, None, None)
            raise yaml.scanner.ScannerError(
                "while increasing flow level", mark, "exceeded maximum nesting depth", mark
            )

    monkeypatch.setattr(yamlsrc, "_Loader", RefusingLoader)
    with pytest.raises(YamlError) as info:
        parse_yaml("a: [[[", "t.yaml")
    assert info.value.message == f"t.yaml:1: nesting deeper than {MAX_DEPTH} levels"
    assert info.value.diagnostics[0].line == 1


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("a: &a [1, *a]\n", "recursive alias"),
        ("a: *nope\n", "undefined alias"),
        ("a: 1\n---\nb: 2\n", "more than one YAML document"),
    ],
)
def test_hostile_structures_refused(text: str, needle: str) -> None:
    with pytest.raises(YamlError) as info:
        parse_yaml(text, "t.yaml")
    assert needle in info.value.message


def test_complex_keys_and_collection_tags_reported() -> None:
    doc = parse_yaml("? [1, 2]\n: 3\nb: 4\ns: !!set {x, y}\n", "t.yaml")
    assert doc.data["b"] == 4 and "[1, 2]" not in doc.data
    messages = [d.message for d in doc.diagnostics]
    assert any("keys must be plain strings" in m for m in messages)
    assert any("tag:yaml.org,2002:set" in m for m in messages)


def test_alias_as_key_and_lines_of_aliases() -> None:
    doc = parse_yaml("x: &k key\n*k : 5\nbase: &b {q: 1}\nl:\n  - *b\n", "t.yaml")
    assert doc.data == {"x": "key", "key": 5, "base": {"q": 1}, "l": [{"q": 1}]}
    assert doc.lines["/l/0"] == 5
    assert doc.diagnostics == []
