"""The draft-03/04 well-formedness walk accepts exactly what python-jsonschema's `check_schema`
accepts: over every draft-03/04 schema of the shared corpus (skipped when absent), of the pair
table, and over generated schema shapes.

Two documented departures are left out of the comparison: format-only constraints (`pattern`
a Python regex, `$schema` a URI: patterns are checked as ECMA-262 by the intake instead), and
draft-04's `$ref`, which its meta-schema leaves unconstrained but which must be a string for
any validator to follow it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pairs import ALL_PAIRS

from teamrel.compat import wellformed

CORPUS = Path(__file__).resolve().parents[3].parent / "shared/corpora/containment-2020-12.jsonl"
D3 = "http://json-schema.org/draft-03/schema#"
D4 = "http://json-schema.org/draft-04/schema#"
CLASSES = {"draft3": jsonschema.Draft3Validator, "draft4": jsonschema.Draft4Validator}


def _dialect(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    return {D3: "draft3", D4: "draft4"}.get(str(schema.get("$schema", "")).rstrip("#") + "#")


def _has_non_string_ref(schema: Any) -> bool:
    if isinstance(schema, dict):
        if "$ref" in schema and not isinstance(schema["$ref"], str):
            return True
        return any(_has_non_string_ref(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_has_non_string_ref(v) for v in schema)
    return False


def _agree(schema: Any, dialect: str) -> None:
    cls = CLASSES[dialect]
    try:
        cls.check_schema(schema, format_checker=None)
        meta_ok = True
    except jsonschema.SchemaError:
        meta_ok = False
    walk = wellformed.problem(schema, dialect, frozenset(cls.VALIDATORS))
    if meta_ok and walk is not None and _has_non_string_ref(schema):
        return  # the one stricter reading, see the module docstring
    assert meta_ok == (walk is None), (
        f"check_schema {'accepts' if meta_ok else 'refuses'} {json.dumps(schema)}; walk: {walk}"
    )


def _corpus_schemas() -> list[tuple[Any, str]]:
    """Every corpus schema with a draft-03/04 `$schema` under that dialect; every other one
    (the corpus is 2020-12: most carry none) read under both, as if it declared them."""
    out: list[tuple[Any, str]] = []
    with CORPUS.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            for key in ("schema1", "schema2"):
                schema = row[key]
                dialect = _dialect(schema)
                if dialect is not None:
                    out.append((schema, dialect))
                elif "$schema" not in (schema if isinstance(schema, dict) else {}):
                    out.extend((schema, d) for d in CLASSES)
    return out


@pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus absent")
def test_corpus_schemas_read_as_draft3_and_draft4_agree_with_check_schema() -> None:
    schemas = _corpus_schemas()
    assert len(schemas) > 5000
    for schema, dialect in schemas:
        _agree(schema, dialect)


def test_table_legacy_schemas_agree_with_check_schema() -> None:
    seen = 0
    for pair in ALL_PAIRS:
        for schema in (pair.producer, pair.consumer):
            dialect = _dialect(schema)
            if dialect is not None:
                _agree(schema, dialect)
                seen += 1
    assert seen >= 60


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.5, 1.0, -1.5]),
    st.sampled_from(["", "a", "string", "integer", "any", "foo"]),
)
_KEYWORDS = [
    "type",
    "disallow",
    "extends",
    "properties",
    "patternProperties",
    "additionalProperties",
    "items",
    "additionalItems",
    "required",
    "dependencies",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "maxLength",
    "minLength",
    "minProperties",
    "maxProperties",
    "uniqueItems",
    "enum",
    "divisibleBy",
    "multipleOf",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "definitions",
    "format",
    "title",
    "id",
    "$ref",
]


def _schemas() -> st.SearchStrategy[Any]:
    values = st.recursive(
        _SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.sampled_from(["a", "b", *_KEYWORDS[:12]]), inner, max_size=3),
        ),
        max_leaves=8,
    )
    return st.dictionaries(st.sampled_from(_KEYWORDS), values, max_size=4)


@settings(max_examples=300, deadline=None)
@given(schema=_schemas(), dialect=st.sampled_from(["draft3", "draft4"]))
def test_generated_legacy_shapes_agree_with_check_schema(schema: Any, dialect: str) -> None:
    _agree(schema, dialect)
