"""Contract files: dialects, meta-schema checks, $ref policy, cycles, caching."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teamrel.contracts import (
    _VALIDATORS,
    DIALECTS,
    SchemaLoader,
    dialect_of,
    load_schema_doc,
    meta_errors,
    resolve_path,
)
from teamrel.errors import InputError, RefError, SchemaError

REPO = Path(__file__).resolve().parents[2]


def write(root: Path, rel: str, doc: object) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)


def problems(root: Path, rel: str) -> list[tuple[str, str | None, str | None]]:
    doc, probs = SchemaLoader(root).resolve(rel)
    assert doc is None
    return [(p.code, p.file, p.pointer) for p in probs]


def test_demo_contract_resolves_with_resources() -> None:
    doc = load_schema_doc(REPO / "contracts" / "case_update.json", REPO)
    assert doc.uri == "file:///contracts/case_update.json"
    assert list(doc.resources) == ["file:///contracts/common.json"]
    doc2 = load_schema_doc(Path("contracts/tools/orders_output.json"), REPO)
    assert list(doc2.resources) == ["file:///contracts/common.json"]


def test_dialects() -> None:
    assert set(DIALECTS.values()) == {"draft4", "draft6", "draft7", "draft2019-09", "draft2020-12"}
    assert dialect_of({}) == "draft2020-12"
    assert dialect_of(True) == "draft2020-12"
    assert dialect_of({"$schema": "http://json-schema.org/draft-07/schema"}) == "draft7"
    assert dialect_of({"$schema": "https://json-schema.org/draft-04/schema#"}) == "draft4"
    assert dialect_of({"$schema": "http://json-schema.org/draft/2019-09/schema#"}) == (
        "draft2019-09"
    )
    with pytest.raises(SchemaError):
        dialect_of({"$schema": "https://example.com/my-dialect"})


@pytest.mark.parametrize(
    ("dialect", "schema", "pointer"),
    [
        ("http://json-schema.org/draft-04/schema#", {"exclusiveMinimum": 3}, "/exclusiveMinimum"),
        ("http://json-schema.org/draft-06/schema#", {"required": "a"}, "/required"),
        (
            "http://json-schema.org/draft-07/schema#",
            {"properties": {"a": {"type": "strin"}}},
            "/properties/a/type",
        ),
        ("https://json-schema.org/draft/2019-09/schema", {"minItems": -1}, "/minItems"),
        ("https://json-schema.org/draft/2020-12/schema", {"prefixItems": {}}, "/prefixItems"),
    ],
)
def test_meta_schema_per_dialect(tmp_path: Path, dialect: str, schema: dict, pointer: str) -> None:  # type: ignore[type-arg]
    write(tmp_path, "c.json", {"$schema": dialect, **schema})
    got = problems(tmp_path, "c.json")
    assert ("schema-invalid", "c.json", pointer) in got
    # the same keyword is fine when valid
    write(tmp_path, "ok.json", {"$schema": dialect, "type": "object"})
    doc, probs = SchemaLoader(tmp_path).resolve("ok.json")
    assert doc is not None and probs == []


def test_draft4_boolean_exclusive_is_valid(tmp_path: Path) -> None:
    write(
        tmp_path,
        "c.json",
        {
            "$schema": "http://json-schema.org/draft-04/schema#",
            "minimum": 1,
            "exclusiveMinimum": True,
        },
    )
    assert SchemaLoader(tmp_path).resolve("c.json")[0] is not None


def test_recursion_through_ref_is_legal(tmp_path: Path) -> None:
    write(
        tmp_path,
        "tree.json",
        {
            "type": "object",
            "properties": {
                "children": {"type": "array", "items": {"$ref": "#"}},
                "other": {"$ref": "node.json"},
            },
        },
    )
    write(
        tmp_path, "node.json", {"type": "object", "properties": {"parent": {"$ref": "tree.json"}}}
    )
    doc = SchemaLoader(tmp_path).load("tree.json")
    assert set(doc.resources) == {"file:///node.json"}


@pytest.mark.parametrize(
    "files",
    [
        {"a.json": {"$ref": "#"}},
        {"a.json": {"$ref": "b.json"}, "b.json": {"$ref": "a.json"}},
        {
            "a.json": {"allOf": [{"$ref": "b.json#/$defs/x"}]},
            "b.json": {"$defs": {"x": {"anyOf": [{"$ref": "a.json"}, {"type": "string"}]}}},
        },
        {
            "a.json": {
                "$defs": {"x": {"$ref": "#/$defs/y"}, "y": {"not": {"$ref": "#/$defs/x"}}},
                "$ref": "#/$defs/x",
            }
        },
        {"a.json": {"$defs": {"x": {"$anchor": "X", "$ref": "#X"}}, "$ref": "#/$defs/x"}},
    ],
)
def test_unresolvable_cycles(tmp_path: Path, files: dict) -> None:  # type: ignore[type-arg]
    for rel, doc in files.items():
        write(tmp_path, rel, doc)
    got = problems(tmp_path, "a.json")
    assert [c for c, _, _ in got] == ["ref-cycle"]


def test_ref_policy(tmp_path: Path) -> None:
    write(
        tmp_path,
        "contracts/c.json",
        {
            "properties": {
                "http": {"$ref": "http://example.com/s.json"},
                "https": {"$ref": "https://example.com/s.json#/x"},
                "urn": {"$ref": "urn:example:thing"},
                "abs": {"$ref": "/etc/passwd"},
                "up": {"$ref": "../../x.json"},
                "missing": {"$ref": "nope.json"},
                "badptr": {"$ref": "#/$defs/nope"},
                "anchor": {"$ref": "#nope"},
            }
        },
    )
    got = {p: c for c, _, p in problems(tmp_path, "contracts/c.json")}
    assert got == {
        "/properties/http/$ref": "ref-remote",
        "/properties/https/$ref": "ref-remote",
        "/properties/urn/$ref": "ref-remote",
        "/properties/abs/$ref": "ref-refused",
        "/properties/up/$ref": "ref-refused",
        "/properties/missing/$ref": "ref-missing",
        "/properties/badptr/$ref": "ref-unresolvable",
        "/properties/anchor/$ref": "ref-unresolvable",
    }


def test_ref_inside_workspace_with_dotdot_is_fine(tmp_path: Path) -> None:
    write(tmp_path, "contracts/common.json", {"$defs": {"Id": {"type": "string"}}})
    write(tmp_path, "contracts/tools/t.json", {"$ref": "../common.json#/$defs/Id"})
    doc = SchemaLoader(tmp_path).load("contracts/tools/t.json")
    assert list(doc.resources) == ["file:///contracts/common.json"]


def test_symlink_escape_refused(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    write(tmp_path, "outside.json", {"type": "string"})
    write(ws, "c.json", {"$ref": "link.json"})
    os.symlink(tmp_path / "outside.json", ws / "link.json")
    got = problems(ws, "c.json")
    assert got == [("ref-refused", "c.json", "/$ref")]
    with pytest.raises(RefError):
        SchemaLoader(ws).load("c.json")


def test_ids_refused_anchors_fine(tmp_path: Path) -> None:
    write(tmp_path, "c.json", {"$id": "https://example.com/c.json", "type": "object"})
    assert problems(tmp_path, "c.json") == [("ref-id", "c.json", "/$id")]
    write(tmp_path, "d.json", {"$defs": {"x": {"$anchor": "X", "type": "string"}}, "$ref": "#X"})
    assert SchemaLoader(tmp_path).resolve("d.json")[0] is not None
    write(
        tmp_path,
        "e.json",
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "definitions": {"x": {"$id": "#X", "type": "string"}},
            "$ref": "#X",
        },
    )
    assert SchemaLoader(tmp_path).resolve("e.json")[0] is not None


def test_keywords_in_data_positions_are_not_refs(tmp_path: Path) -> None:
    write(
        tmp_path,
        "c.json",
        {
            "enum": [{"$ref": "http://x"}],
            "const": {"$ref": "http://x"},
            "default": {"$ref": "http://x"},
            "properties": {"$ref": {"type": "string"}, "enum": {"$ref": "#/$defs/a"}},
            "$defs": {"a": {"type": "integer"}},
        },
    )
    assert SchemaLoader(tmp_path).resolve("c.json")[0] is not None


def test_bad_json(tmp_path: Path) -> None:
    write(tmp_path, "a.json", '{"type": "object",\n "type": "string"}')
    assert problems(tmp_path, "a.json")[0][0] == "json"
    write(tmp_path, "b.json", '{"type": "object",\n')
    _doc, probs = SchemaLoader(tmp_path).resolve("b.json")
    assert probs[0].code == "json" and probs[0].line == 2
    write(tmp_path, "c.json", '{"minimum": NaN}')
    assert problems(tmp_path, "c.json")[0][0] == "json"
    write(tmp_path, "d.json", "[1, 2]")
    assert problems(tmp_path, "d.json")[0][0] in ("schema-invalid", "not-a-schema")
    (tmp_path / "e.json").write_bytes(b'{"title": "\xff"}')
    assert problems(tmp_path, "e.json")[0][0] == "encoding"


def test_size_and_depth_caps(tmp_path: Path) -> None:
    write(tmp_path, "big.json", {"description": "x" * 200})
    doc, probs = SchemaLoader(tmp_path, max_bytes=100).resolve("big.json")
    assert doc is None and probs[0].code == "too-large"
    deep: dict = {"type": "string"}  # type: ignore[type-arg]
    for _ in range(200):
        deep = {"items": deep}
    write(tmp_path, "deep.json", deep)
    doc, probs = SchemaLoader(tmp_path).resolve("deep.json")
    assert doc is None and probs[0].code == "too-deep"


def test_too_large_file_is_never_parsed_for_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a 50 MB contract took 17 s and 570 MB to be refused: the line map parsed it whole
    write(tmp_path, "big.json", {"description": "x" * 200})
    calls: list[str] = []
    import teamrel.contracts as contracts_mod

    real = contracts_mod.parse_yaml
    monkeypatch.setattr(contracts_mod, "parse_yaml", lambda t, f: calls.append(f) or real(t, f))
    doc, probs = SchemaLoader(tmp_path, max_bytes=100).resolve("big.json")
    assert doc is None and [p.code for p in probs] == ["too-large"]
    assert probs[0].file == "big.json" and probs[0].line is None
    assert calls == []


def test_directory_where_a_file_is_expected(tmp_path: Path) -> None:
    (tmp_path / "a.json").mkdir()
    with pytest.raises(InputError, match="is a directory, not a file"):
        resolve_path(tmp_path, "a.json")
    write(tmp_path, "b.json", {"$ref": "a.json"})
    assert problems(tmp_path, "b.json") == [("ref-missing", "b.json", "/$ref")]
    if hasattr(os, "mkfifo"):  # a FIFO would block the reader: refused by its kind
        os.mkfifo(tmp_path / "f.json")
        with pytest.raises(InputError, match=r"'f\.json' is not a regular file"):
            resolve_path(tmp_path, "f.json")


def test_problems_of_referenced_files_reported(tmp_path: Path) -> None:
    write(tmp_path, "a.json", {"$ref": "b.json"})
    write(tmp_path, "b.json", {"type": 5})
    assert ("schema-invalid", "b.json", "/type") in problems(tmp_path, "a.json")


def test_cache_reads_each_file_once(tmp_path: Path) -> None:
    write(tmp_path, "common.json", {"$defs": {"a": {"type": "string"}}})
    for i in range(5):
        write(tmp_path, f"s{i}.json", {"$ref": "common.json#/$defs/a"})
    loader = SchemaLoader(tmp_path)
    docs = [loader.load(f"s{i}.json") for i in range(5)]
    assert docs[0].resources["file:///common.json"] is docs[4].resources["file:///common.json"]
    assert loader.load("s0.json") is docs[0]


def test_inline() -> None:
    loader = SchemaLoader(REPO)
    doc, probs = loader.inline({"type": "string"}, "input", pointer="/members/a/input")
    assert doc is not None and doc.uri == "urn:teamrel:inline:input" and probs == []
    doc, probs = loader.inline({"type": "strin"}, "input", pointer="/members/a/input")
    assert doc is None and probs[0].pointer == "/members/a/input/type"
    assert probs[0].file == "teamrel.yaml"


def test_resolve_path(tmp_path: Path) -> None:
    write(tmp_path, "a/b.json", "{}")
    assert resolve_path(tmp_path, "a/./b.json") == "a/b.json"
    assert resolve_path(tmp_path, "b.json", "a") == "a/b.json"
    for bad in ("../x", "a/../../x", "/etc/passwd", "https://x/y", "C:\\x", "a/missing.json"):
        with pytest.raises(InputError):
            resolve_path(tmp_path, bad)


_leaf = st.sampled_from(
    [
        {"type": "string"},
        {"type": "strin"},
        {"minLength": -1},
        {"minimum": 1, "exclusiveMinimum": True},
        {"exclusiveMinimum": 3},
        {"required": ["a"]},
        {"required": "a"},
        {"enum": [1, "x"]},
        {"items": []},
        {"$ref": "#"},
        True,
        False,
        True,
        False,
        {},
        5,
    ]
)


def _extend(children: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    names = st.sampled_from(["a", "b", "$ref", "enum"])
    return st.one_of(
        st.builds(lambda d: {"properties": d}, st.dictionaries(names, children, max_size=3)),
        st.builds(lambda xs: {"allOf": xs}, st.lists(children, max_size=3)),
        st.builds(lambda xs: {"items": xs}, st.lists(children, max_size=2)),
        st.builds(lambda x: {"items": x}, children),
        st.builds(lambda x: {"additionalProperties": x}, children),
        st.builds(lambda x: {"not": x, "type": "object"}, children),
        st.builds(
            lambda d: {"$defs": d, "definitions": d}, st.dictionaries(names, children, max_size=2)
        ),
        st.builds(
            lambda d: {"dependencies": d},
            st.dictionaries(names, st.one_of(children, st.just(["a"])), max_size=2),
        ),
    )


_schemas = st.recursive(_leaf, _extend, max_leaves=12)


@pytest.mark.parametrize("dialect", sorted(_VALIDATORS))
@settings(max_examples=250, deadline=None)
@given(schema=_schemas)
def test_memoised_meta_check_agrees_with_jsonschema(dialect: str, schema: object) -> None:
    cls = _VALIDATORS[dialect]
    expected_valid = cls(cls.META_SCHEMA).is_valid(schema)
    assert (meta_errors(schema, dialect) == []) == expected_valid


def test_cycle_reported_for_every_closure_containing_it(tmp_path: Path) -> None:
    write(tmp_path, "a.json", {"$defs": {"x": {"$ref": "#/$defs/x"}}})
    write(tmp_path, "b.json", {"properties": {"p": {"$ref": "a.json#/$defs/x"}}})
    write(tmp_path, "c.json", {"type": "string"})
    loader = SchemaLoader(tmp_path)
    assert [p.code for p in loader.resolve("a.json")[1]] == ["ref-cycle"]
    assert [p.code for p in loader.resolve("b.json")[1]] == ["ref-cycle"]
    assert loader.resolve("c.json")[0] is not None


def test_long_chain_of_files(tmp_path: Path) -> None:
    n = 300
    for i in range(n):
        nxt = {"$ref": f"s{i + 1}.json"} if i + 1 < n else {"type": "string"}
        write(tmp_path, f"s{i}.json", {"type": "object", "properties": {"next": nxt}})
    loader = SchemaLoader(tmp_path)
    for i in range(n):
        doc = loader.load(f"s{i}.json")
        assert len(doc.resources) == n - 1 - i
