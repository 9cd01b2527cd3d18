"""The hand-made producer/consumer table: every pair with its verdict worked out by hand.

Owns the `Pair` record and the helpers the data modules (`scalars`, `objects`, `arrays`, `logic`,
`refs`, `stories`, `tricky`, `unions`, `legacy`) build their pairs with, and `ALL_PAIRS`, the
whole table.

For an incompatible pair the table carries the hand-made witness (a value valid under the
producer and invalid under the consumer: the suite checks it with the reference oracle, so the
label itself is proven), the acceptable problem kinds and the acceptable instance pointers
(fnmatch patterns: the engine may find a different but equally right witness when the schemas
leave a choice, e.g. any extra property name for a closed consumer). For a compatible pair it
may carry sample instances valid under both (checked too: a cheap guard against a mislabel).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = Any

D4 = "http://json-schema.org/draft-04/schema#"
D6 = "http://json-schema.org/draft-06/schema#"
D7 = "http://json-schema.org/draft-07/schema#"
D2019 = "https://json-schema.org/draft/2019-09/schema"
D2020 = "https://json-schema.org/draft/2020-12/schema"

#: Problem-kind alternatives, from the engine's fixed vocabulary (docs/compat.md, PROBLEM_KINDS).
TYPE = "type-widened|property-type-changed"
NULL = "nullable-added|type-widened"
BOUND = "bound-relaxed"
LENGTH = "length-relaxed|bound-relaxed"
SIZE = "bound-relaxed|length-relaxed"
MULT = "multiple-of-relaxed"
ENUM = "enum-extended|const-changed"
REQ = "required-removed"
EXTRA = "property-not-allowed|closed-to-open"
PATTERN = "pattern-widened"
FORMAT = "format-widened"
ITEMS = "items-widened|" + TYPE
TUPLE = "tuple-extended|items-widened"
UNIQUE = "unique-items-dropped"
CONTAINS = "contains-relaxed"
DEP = "dependency-removed|required-removed"
UNION = "union-branch-added"
NOT = "not-relaxed"
ANY = "?"  # any kind of the engine's documented vocabulary

MISSING: Any = object()


@dataclass(frozen=True)
class Pair:
    """One row of the table."""

    id: str
    producer: JSON
    consumer: JSON
    expected: Literal["compatible", "incompatible"]
    witness: JSON = MISSING
    kinds: tuple[str, ...] = ()
    pointers: tuple[str, ...] = ()
    format_assertion: bool = False
    samples: tuple[JSON, ...] = ()
    #: False when no witness exists that plain python-jsonschema agrees with (it departs from
    #: the spec there): the engine can then only answer unknown, never compatible.
    plain_witness: bool = True
    note: str = ""
    tags: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        return self.id


def ok(
    id: str,
    producer: JSON,
    consumer: JSON,
    *samples: JSON,
    fa: bool = False,
    note: str = "",
) -> Pair:
    """A pair whose truth is: every value valid under producer is valid under consumer."""
    return Pair(
        id, producer, consumer, "compatible", samples=samples, format_assertion=fa, note=note
    )


def bad(
    id: str,
    producer: JSON,
    consumer: JSON,
    witness: JSON,
    kind: str,
    pointer: str,
    *,
    fa: bool = False,
    plain_witness: bool = True,
    note: str = "",
) -> Pair:
    """A pair with a value valid under producer and invalid under consumer (`witness`)."""
    return Pair(
        id,
        producer,
        consumer,
        "incompatible",
        witness=witness,
        kinds=tuple(kind.split("|")),
        pointers=tuple(pointer.split("|")),
        format_assertion=fa,
        plain_witness=plain_witness,
        note=note,
    )


def edit(schema: JSON, path: str, value: JSON = MISSING) -> JSON:
    """A deep copy of `schema` with the JSON pointer `path` set to `value` (MISSING: removed)."""
    out = copy.deepcopy(schema)
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
    node = out
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    last = parts[-1]
    if isinstance(node, list):
        if value is MISSING:
            del node[int(last)]
        elif last == "-":
            node.append(value)
        else:
            node[int(last)] = value
    elif value is MISSING:
        del node[last]
    else:
        node[last] = value
    return out


def _all() -> list[Pair]:
    from . import arrays, legacy, logic, objects, refs, scalars, stories, tricky, unions

    pairs: list[Pair] = []
    for module in (scalars, objects, arrays, logic, refs, stories, tricky, unions, legacy):
        pairs.extend(module.PAIRS)
    ids = [p.id for p in pairs]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise AssertionError(f"duplicate pair ids: {sorted(dup)}")
    return pairs


ALL_PAIRS: list[Pair] = _all()
