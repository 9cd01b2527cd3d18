"""Annotations are not semantics: `semantic_fingerprint` and the shortcut it gives `check`.

An edit of annotations only (title, description, examples, $comment, default, deprecated,
readOnly/writeOnly, unknown keywords) is decided "compatible" without a proof; a property
*named* like an annotation, an annotation a `$ref` points into and an annotation that holds an
identifier are semantics and keep the fingerprints apart (the prover then decides).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from teamrel.compat import check
from teamrel.compat.annotations import semantic_fingerprint
from teamrel.models import SchemaDoc

BASE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Ticket",
    "description": "A ticket.",
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "the id", "examples": ["t-1"]},
        "title": {"type": "string", "maxLength": 80},
        "tier": {"enum": ["free", "pro"], "default": "free", "deprecated": False},
    },
    "required": ["id", "title", "description"],
    "$defs": {"n": {"type": "integer", "$comment": "a count", "readOnly": True}},
    "x-owner": "support",
}


def edited(**changes: Any) -> dict[str, Any]:
    s = copy.deepcopy(BASE)
    s.update(changes)
    return s


@pytest.mark.parametrize(
    "variant",
    [
        edited(title="Ticket v2"),
        edited(description="Another text."),
        edited(**{"x-owner": "billing", "markdownDescription": "**A** ticket"}),
        edited(**{"$comment": "new"}),
        {k: v for k, v in BASE.items() if k not in ("title", "description", "x-owner")},
        edited(
            properties={
                "id": {"type": "string", "writeOnly": True},
                "title": {"type": "string", "maxLength": 80, "title": "Title"},
                "tier": {"enum": ["free", "pro"], "default": "pro", "examples": ["pro"]},
            }
        ),
    ],
    ids=["title", "description", "unknown", "comment", "removed", "nested"],
)
def test_annotation_edits_share_the_fingerprint_and_are_compatible_at_once(
    variant: dict[str, Any],
) -> None:
    assert semantic_fingerprint(variant) == semantic_fingerprint(BASE)
    for p, c in ((BASE, variant), (variant, BASE)):
        r = check(p, c)
        assert r.verdict == "compatible"
        assert r.steps == 0  # no proof was run


def test_a_property_named_like_an_annotation_is_semantics() -> None:
    narrowed = edited(properties={**BASE["properties"], "title": {"type": "string"}})
    narrowed["properties"]["title"] = {"type": "string", "maxLength": 10}
    assert semantic_fingerprint(narrowed) != semantic_fingerprint(BASE)
    assert check(BASE, narrowed).verdict == "incompatible"
    no_title = edited(properties={k: v for k, v in BASE["properties"].items() if k != "title"})
    assert semantic_fingerprint(no_title) != semantic_fingerprint(BASE)
    # `required: ["description"]` names a property, not the keyword
    assert semantic_fingerprint(edited(required=["id", "title"])) != semantic_fingerprint(BASE)


def test_an_annotation_a_ref_points_into_is_semantics() -> None:
    a = {"properties": {"x": {"$ref": "#/default"}}, "default": {"type": "string"}}
    b = {"properties": {"x": {"$ref": "#/default"}}, "default": {"type": "integer"}}
    assert semantic_fingerprint(a) != semantic_fingerprint(b)
    r = check(a, b)
    assert r.verdict == "incompatible" and r.witness == {"x": ""}
    u1 = {"properties": {"x": {"$ref": "#/x-defs/s"}}, "x-defs": {"s": {"const": 1}}}
    u2 = {"properties": {"x": {"$ref": "#/x-defs/s"}}, "x-defs": {"s": {"const": 2}}}
    assert semantic_fingerprint(u1) != semantic_fingerprint(u2)
    assert check(u1, u2).verdict == "incompatible"


def test_an_annotation_holding_an_identifier_is_semantics() -> None:
    a = {"$ref": "urn:t", "x-lib": {"$id": "urn:t", "type": "string"}}
    b = {"$ref": "urn:t", "x-lib": {"$id": "urn:t", "type": "integer"}}
    assert semantic_fingerprint(a) != semantic_fingerprint(b)


def test_values_are_not_walked_as_schemas() -> None:
    # enum / const members that look like schemas keep their annotations: they are values
    a = {"enum": [{"title": "a"}]}
    b = {"enum": [{"title": "b"}]}
    assert semantic_fingerprint(a) != semantic_fingerprint(b)
    assert check(a, b).verdict == "incompatible"


def test_schema_docs_and_resources() -> None:
    res = {"urn:lib": {"$defs": {"s": {"type": "string", "description": "one"}}}}
    res2 = {"urn:lib": {"$defs": {"s": {"type": "string", "description": "two"}}}}
    a = SchemaDoc(uri="file:///a.json", schema={"$ref": "urn:lib#/$defs/s"}, resources=res)
    b = SchemaDoc(uri="file:///a.json", schema={"$ref": "urn:lib#/$defs/s"}, resources=res2)
    assert semantic_fingerprint(a) == semantic_fingerprint(b)
    assert check(a, b).verdict == "compatible"
    other_uri = SchemaDoc(uri="file:///b.json", schema={"$ref": "urn:lib#/$defs/s"}, resources=res)
    assert semantic_fingerprint(other_uri) != semantic_fingerprint(a)


def test_not_json_has_no_fingerprint() -> None:
    assert semantic_fingerprint({"minimum": float("nan")}) is None


def test_a_pointer_protects_the_position_it_reaches_not_the_keyword_everywhere() -> None:
    # `#/$defs/description` names a definition called "description": the root's
    # description annotation is not what it reaches
    base = {
        "$defs": {"description": {"type": "string"}},
        "properties": {"d": {"$ref": "#/$defs/description"}},
        "description": "one",
    }
    edited = {**base, "description": "two"}
    assert semantic_fingerprint(edited) == semantic_fingerprint(base)
    # the same keyword at a position a pointer reaches is semantics, nested too
    a = {
        "properties": {
            "a": {"default": {"type": "string"}},
            "b": {"$ref": "#/properties/a/default"},
        }
    }
    b = {
        "properties": {
            "a": {"default": {"type": "integer"}},
            "b": {"$ref": "#/properties/a/default"},
        }
    }
    assert semantic_fingerprint(a) != semantic_fingerprint(b)
    assert check(a, b).verdict == "incompatible"
    # percent-encoded and ~-escaped pointers reach their position as written plainly
    c = {"$ref": "#/x%2Dlib/a~1b", "x-lib": {"a/b": {"const": 1}}}
    d = {"$ref": "#/x%2Dlib/a~1b", "x-lib": {"a/b": {"const": 2}}}
    assert semantic_fingerprint(c) != semantic_fingerprint(d)


def test_every_real_world_annotation_edit_shares_the_fingerprint() -> None:
    from schemastore_corpus import UNUSABLE, annotation_edit, schemas

    found = schemas()
    if not found:
        pytest.skip("check-jsonschema not installed")
    for name, schema in found:
        if name in UNUSABLE:
            continue
        fp = semantic_fingerprint(schema)
        assert fp is not None, name
        assert semantic_fingerprint(annotation_edit(schema)) == fp, name
