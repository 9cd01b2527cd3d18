"""Provider profiles: the JSON Schema subset a provider's structured output accepts, and the
schema the model really generates against.

A member may declare `structured_output: <profile>` (docs/sources.md, "Provider profiles").
A profile answers two questions about a schema document:
- `refusals(schema)`: every construct the provider refuses, as `(JSON pointer, message)`;
  `teamrel validate` reports them;
- `effective(schema)`: the schema the model actually generates against, after the client
  library's rewrite; `teamrel check` proves the downstream contracts against it, not against
  the declared one (an optional field may become required-but-nullable: the model then sends
  `null` where the declared schema let it leave the key out).

Profiles are registered in `PROFILES` by name; adding one is a class with these two methods.
This module imports no provider SDK (the core install has none): `openai-strict` re-implements
the OpenAI Agents SDK's `ensure_strict_json_schema`, and a test compares the two.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any, Protocol
from urllib.parse import unquote

from teamrel.models import SchemaDoc

Refusal = tuple[str, str]


class Profile(Protocol):
    """What a provider's structured output accepts and what it generates against."""

    #: the name members declare (`structured_output: <name>`)
    name: str
    #: one line for docs and messages
    description: str

    def refusals(self, schema: Any, *, root: bool = True) -> list[Refusal]:
        """Every construct of `schema` the provider refuses: (JSON pointer, message).
        `root=False`: a file the schema references (no rule about the document's root)."""
        ...

    def effective(self, schema: Any, *, root: bool = True) -> Any:
        """The schema the model generates against (a new object; `schema` is not changed)."""
        ...


def _ptr(path: tuple[str, ...]) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


#: Keywords that may sit beside a `$ref` without constraining the instance (the SDK's list).
_REF_NON_CONSTRAINING = frozenset(
    {
        "$anchor",
        "$comment",
        "$defs",
        "$schema",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
        "default",
        "definitions",
        "deprecated",
        "description",
        "examples",
        "readOnly",
        "title",
        "writeOnly",
    }
)
#: Composition keywords OpenAI's strict mode refuses anywhere.
_REFUSED_KEYWORDS = (
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
)
#: Structural limits of OpenAI structured outputs (platform.openai.com "Supported schemas").
MAX_NESTING = 10
MAX_PROPERTIES = 5000
MAX_ENUM_VALUES = 1000
#: Work bound of the rewrite: a `$ref` fan-out must not expand exponentially.
_MAX_NODES = 100_000


class _Stop(Exception):
    """The rewrite cannot continue (the SDK would raise); the message says why."""

    def __init__(self, path: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


class OpenAIStrict:
    """OpenAI strict structured outputs, as the OpenAI Agents SDK sends a schema.

    `effective` mirrors the SDK's `ensure_strict_json_schema` (agents/strict_schema.py,
    0.24): every object gets `additionalProperties: false` and lists every property as
    required, `oneOf` becomes `anyOf`, a singleton `allOf` is merged into its parent,
    `default: null` is dropped, a `$ref` with sibling keywords is inlined. `refusals` is
    what the API still refuses after that rewrite (or what the rewrite itself refuses).
    """

    name = "openai-strict"
    description = "OpenAI strict structured outputs, as the OpenAI Agents SDK rewrites schemas"

    # ------------------------------------------------------------------ effective

    def effective(self, schema: Any, *, root: bool = True) -> Any:
        """The strict rewrite of `schema` (constructs it cannot rewrite are left as they are)."""
        out, _ = self._rewrite(schema, root)
        return out

    def _rewrite(self, schema: Any, is_root: bool = True) -> tuple[Any, list[Refusal]]:
        if not isinstance(schema, dict):
            return copy.deepcopy(schema), []
        if schema == {} and is_root:
            return {
                "additionalProperties": False,
                "type": "object",
                "properties": {},
                "required": [],
            }, []
        root = copy.deepcopy(schema)
        problems: list[Refusal] = []
        budget = [_MAX_NODES]
        try:
            out = _Strict(root, problems, budget).node(root, ())
        except _Stop as stop:
            problems.append((_ptr(stop.path), stop.message))
            return root, problems
        except RecursionError:
            # a $ref chain that loops through siblings (the loader refuses those in a
            # workspace; this guards direct callers) or a nesting deeper than the stack
            problems.append(("", "the schema nests or refers too deeply to be rewritten"))
            return copy.deepcopy(schema), problems
        if not is_root:
            return out, problems
        if isinstance(out.get("anyOf"), list):
            problems.append(("/anyOf", "the root of a strict schema must not use anyOf"))
        typ = out.get("type")
        if isinstance(typ, list) and "object" in typ:
            if typ == ["object"]:
                out["type"] = "object"
            else:
                problems.append(
                    ("/type", f"the root of a strict schema must be a non-nullable object: {typ}")
                )
        return out, problems

    # ------------------------------------------------------------------ refusals

    def refusals(self, schema: Any, *, root: bool = True) -> list[Refusal]:
        """What OpenAI refuses in `schema` once the SDK has rewritten it, with pointers."""
        if not isinstance(schema, dict):
            return [("", "a strict schema must be an object schema, not a boolean")]
        out, problems = self._rewrite(schema, root)
        # one refusal per place: the rewrite's own reason first
        seen = {p for p, _ in problems}
        found: list[Refusal] = list(problems)

        def add(path: tuple[str, ...], message: str) -> None:
            where = _ptr(path)
            if where not in seen:
                seen.add(where)
                found.append((where, message))

        if root and out.get("type") != "object" and "$ref" not in out:
            add(("type",) if "type" in out else (), "the root of a strict schema must be an object")
        counts = {"properties": 0, "enum": 0}
        _check(out, (), add, counts)
        depth, where = _depth(out, out, (), frozenset())
        if depth > MAX_NESTING:
            add(where, f"{depth} levels of nesting: at most {MAX_NESTING}")
        if counts["properties"] > MAX_PROPERTIES:
            add((), f"{counts['properties']} object properties: at most {MAX_PROPERTIES}")
        if counts["enum"] > MAX_ENUM_VALUES:
            add((), f"{counts['enum']} enum values: at most {MAX_ENUM_VALUES}")
        return found


def _subschemas(
    node: dict[str, Any], path: tuple[str, ...]
) -> Iterator[tuple[Any, tuple[str, ...], bool]]:
    """(subschema, its path, whether it is one nesting level down) of a schema node."""
    for key in ("$defs", "definitions", "properties", "patternProperties"):
        kids = node.get(key)
        if isinstance(kids, dict):
            for k, v in kids.items():
                yield v, (*path, key, k), key == "properties"
    for key in ("items", "additionalProperties", "contains", "prefixItems"):
        kid = node.get(key)
        if isinstance(kid, dict):
            yield kid, (*path, key), key != "additionalProperties"
        elif isinstance(kid, list):
            for i, v in enumerate(kid):
                yield v, (*path, key, str(i)), True
    for key in ("anyOf", "oneOf", "allOf"):
        kids = node.get(key)
        if isinstance(kids, list):
            for i, v in enumerate(kids):
                yield v, (*path, key, str(i)), False
    for key in ("not", "if", "then", "else"):
        kid = node.get(key)
        if isinstance(kid, dict):
            yield kid, (*path, key), False
    deps = node.get("dependentSchemas")
    if isinstance(deps, dict):
        for k, v in deps.items():
            yield v, (*path, "dependentSchemas", k), False


def _depth(
    node: Any, root: Any, path: tuple[str, ...], refs: frozenset[str]
) -> tuple[int, tuple[str, ...]]:
    """The deepest nesting (objects and arrays inside properties and items) below `node`, and
    where it is; local `$ref`s are followed, a recursive one (already on the way) is not."""
    if not isinstance(node, dict):
        return 0, path
    best: tuple[int, tuple[str, ...]] = (0, path)
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and ref not in refs:
        target: Any = root
        for raw in unquote(ref[2:]).split("/"):
            key = raw.replace("~1", "/").replace("~0", "~")
            target = target.get(key) if isinstance(target, dict) else None
        if isinstance(target, dict):
            best = max(best, _depth(target, root, path, refs | {ref}), key=lambda t: t[0])
    for kid, kid_path, deeper in _subschemas(node, path):
        if kid_path[len(path)] in ("$defs", "definitions"):
            continue  # reached through the $refs that use them
        d, where = _depth(kid, root, kid_path, refs)
        if deeper:
            d += 1
        if d > best[0]:
            best = (d, where)
    return best


def _check(
    node: Any,
    path: tuple[str, ...],
    add: Callable[[tuple[str, ...], str], None],
    counts: dict[str, int],
) -> None:
    if not isinstance(node, dict):
        return
    for key in _REFUSED_KEYWORDS:
        if key in node:
            add((*path, key), f"{key} is not supported by strict structured outputs")
    if "oneOf" in node and path:
        # the rewrite turns every oneOf into anyOf; one left here escaped it
        add((*path, "oneOf"), "oneOf is not supported by strict structured outputs")
    typ = node.get("type")
    is_object = typ == "object" or (isinstance(typ, list) and "object" in typ)
    if is_object or isinstance(node.get("properties"), dict):
        _check_object(node, path, add, counts)
    enum = node.get("enum")
    if isinstance(enum, list):
        counts["enum"] += len(enum)
    ref = node.get("$ref")
    if isinstance(ref, str) and not ref.startswith("#"):
        _check_external_ref(node, path, add)
    for kid, kid_path, _deeper in _subschemas(node, path):
        _check(kid, kid_path, add, counts)


def _check_object(
    node: dict[str, Any],
    path: tuple[str, ...],
    add: Callable[[tuple[str, ...], str], None],
    counts: dict[str, int],
) -> None:
    """An object (by type or by `properties`) must be closed and require every property."""
    props = node.get("properties")
    if node.get("additionalProperties") is not False:
        add((*path, "additionalProperties"), "every object must set additionalProperties: false")
    if isinstance(props, dict):
        counts["properties"] += len(props)
        required = node.get("required")
        missing = [k for k in props if not (isinstance(required, list) and k in required)]
        if missing:
            add(
                (*path, "required"),
                "every property must be required: " + ", ".join(map(repr, missing)),
            )
    if "patternProperties" in node:
        add((*path, "patternProperties"), "patternProperties is not supported")


def _check_external_ref(
    node: dict[str, Any], path: tuple[str, ...], add: Callable[[tuple[str, ...], str], None]
) -> None:
    """A $ref to another file is resolved by the SDK only when it stands alone."""
    siblings = set(node) - {"$ref"} - _REF_NON_CONSTRAINING
    if siblings:
        add(
            (*path, "$ref"),
            "a $ref to another file beside other keywords cannot be inlined "
            f"({', '.join(sorted(siblings))})",
        )


def _plain_ref(entry: Any) -> bool:
    """A schema that is only a $ref (and annotations): the SDK follows its chain as is."""
    return (
        isinstance(entry, dict)
        and "$ref" in entry
        and not (set(entry) - {"$ref"} - _REF_NON_CONSTRAINING)
    )


class _Strict:
    """One run of the strict rewrite over a (copied) root document, mutating it in place."""

    def __init__(self, root: dict[str, Any], problems: list[Refusal], budget: list[int]) -> None:
        self.root = root
        self.problems = problems
        self.budget = budget

    def spend(self, path: tuple[str, ...]) -> None:
        self.budget[0] -= 1
        if self.budget[0] < 0:
            raise _Stop(path, "the schema is too large to rewrite (a $ref fan-out?)")

    def refuse(self, path: tuple[str, ...], message: str) -> None:
        self.problems.append((_ptr(path), message))

    def node(self, s: Any, path: tuple[str, ...]) -> Any:
        """The strict form of one schema node (rewritten in place), its subschemas first.

        The recursion into properties, items and the combinators stays here, so a nesting
        level costs no extra stack frame; the steps that do not recurse are the methods below."""
        if not isinstance(s, dict):
            # the SDK walks the same subschemas and raises TypeError on a boolean one
            raise _Stop(path, f"a boolean schema ({json.dumps(s)}) here cannot be made strict")
        self.spend(path)
        explicitly_closed = s.get("additionalProperties") is False
        if "$ref" in s:
            self.refuse_ref_siblings(s, path)
        if "$defs" in s or "definitions" in s:
            self.definitions(s, path)
        self.close(s, path)
        props = s.get("properties")
        if isinstance(props, dict):
            s["required"] = list(props)
            s["properties"] = {k: self.node(v, (*path, "properties", k)) for k, v in props.items()}
        items = s.get("items")
        if isinstance(items, dict):
            s["items"] = self.node(items, (*path, "items"))
        any_of = s.get("anyOf")
        if isinstance(any_of, list):
            s["anyOf"] = [self.node(v, (*path, "anyOf", str(i))) for i, v in enumerate(any_of)]
        one_of = s.get("oneOf")
        if isinstance(one_of, list):
            existing = s.get("anyOf", [])
            s["anyOf"] = (existing if isinstance(existing, list) else []) + [
                self.node(v, (*path, "oneOf", str(i))) for i, v in enumerate(one_of)
            ]
            s.pop("oneOf")
        all_of = s.get("allOf")
        if isinstance(all_of, list):
            if len(all_of) == 1:
                entry, entry_path = all_of[0], (*path, "allOf", "0")
                if _plain_ref(entry):
                    strict_entry = self.ref_chain(entry, entry_path)
                else:
                    strict_entry = self.node(entry, entry_path)
                self.merge_all_of(s, strict_entry, path, explicitly_closed)
                return self.node(s, path)
            s["allOf"] = [self.node(v, (*path, "allOf", str(i))) for i, v in enumerate(all_of)]
        if "default" in s and s["default"] is None:
            s.pop("default")
        if self.inline_ref(s, path):
            return self.node(s, path)
        return s

    def refuse_ref_siblings(self, s: dict[str, Any], path: tuple[str, ...]) -> None:
        """A $ref beside keywords that constrain it: inlining would change what it accepts."""
        siblings = (
            set(s) - {"$ref"} - _REF_NON_CONSTRAINING - ({"$id"} if s is self.root else set())
        )
        if siblings:
            self.refuse(
                (*path, "$ref"),
                f"a $ref beside constraining keywords ({', '.join(sorted(siblings))}) "
                "cannot be inlined without changing what it accepts",
            )

    def definitions(self, s: dict[str, Any], path: tuple[str, ...]) -> None:
        """Rewrite every schema under $defs / definitions (what the $refs point at)."""
        for key in ("$defs", "definitions"):
            defs = s.get(key)
            if isinstance(defs, dict):
                for name, sub in defs.items():
                    self.node(sub, (*path, key, name))

    def close(self, s: dict[str, Any], path: tuple[str, ...]) -> None:
        """Type a node with properties as an object, and close every object (or refuse)."""
        typ = s.get("type")
        if typ is None and isinstance(s.get("properties"), dict):
            typ = s["type"] = "object"
        elif typ is None and s.get("additionalProperties", False) is not False:
            self.refuse(
                (*path, "additionalProperties"),
                "additionalProperties must be false in a strict schema",
            )
        if not (typ == "object" or (isinstance(typ, list) and "object" in typ)):
            return
        if "additionalProperties" not in s:
            s["additionalProperties"] = False
        elif s["additionalProperties"] is not False:
            self.refuse(
                (*path, "additionalProperties"),
                "additionalProperties must be false in a strict schema (the object is open)",
            )

    def merge_all_of(
        self,
        s: dict[str, Any],
        strict_entry: dict[str, Any],
        path: tuple[str, ...],
        explicitly_closed: bool,
    ) -> None:
        """Replace `s` by its single (already rewritten) allOf entry merged with it."""
        s.pop("allOf")
        if not explicitly_closed:
            s.pop("additionalProperties", None)
        merged = self.merge_single(strict_entry, s, path)
        s.clear()
        s.update(merged)

    def inline_ref(self, s: dict[str, Any], path: tuple[str, ...]) -> bool:
        """Replace a local $ref beside other keywords by what it points at, `s`'s own
        keywords winning; False when there is nothing to inline (a $ref to another file is
        left for refusals to name)."""
        ref = s.get("$ref")
        if not (isinstance(ref, str) and len(s) > 1 and ref.startswith("#")):
            return False
        resolved = self.resolve(ref, path)
        s.pop("$ref")
        s.update({**resolved, **s})
        return True

    def resolve(self, ref: str, path: tuple[str, ...]) -> dict[str, Any]:
        if not ref.startswith("#/"):
            raise _Stop((*path, "$ref"), f"$ref {ref!r} cannot be inlined (not a #/ pointer)")
        cur: Any = self.root
        for raw in unquote(ref[2:]).split("/"):
            key = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(cur, dict) and key in cur:
                cur = cur[key]
            elif isinstance(cur, list) and key.isdigit() and int(key) < len(cur):
                cur = cur[int(key)]
            else:
                raise _Stop((*path, "$ref"), f"$ref {ref!r} does not resolve")
        if not isinstance(cur, dict):
            raise _Stop((*path, "$ref"), f"$ref {ref!r} does not resolve to a schema object")
        return dict(cur)

    def ref_chain(self, schema: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        resolved = schema
        seen: set[str] = set()
        carried: dict[str, Any] = {}
        while "$ref" in resolved and not (set(resolved) - {"$ref"} - _REF_NON_CONSTRAINING):
            ref = resolved["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                break
            if ref in seen:
                raise _Stop((*path, "$ref"), "a circular $ref chain")
            seen.add(ref)
            carried = {**{k: v for k, v in resolved.items() if k != "$ref"}, **carried}
            self.spend(path)
            resolved = self.resolve(ref, path)
        return {**resolved, **carried}

    def merge_single(
        self, entry: dict[str, Any], parent: dict[str, Any], path: tuple[str, ...]
    ) -> dict[str, Any]:
        merged = dict(entry)
        clash: list[str] = []
        if (
            parent.get("additionalProperties") is False
            and parent.get("properties", {}) == {}
            and isinstance(entry.get("properties"), dict)
            and entry["properties"] != {}
        ):
            clash.append("properties")
        for key, value in parent.items():
            if key not in merged or key in _REF_NON_CONSTRAINING:
                merged[key] = value
            elif (
                _json_equal(value, merged[key])
                or (key == "properties" and value == {})
                or (key == "required" and value == [])
            ):
                continue
            else:
                clash.append(key)
        if clash:
            raise _Stop(
                (*path, "allOf"),
                "a single allOf entry clashes with its parent's "
                f"{', '.join(sorted(clash))}: it cannot be merged",
            )
        return merged


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and bool(a == b)


#: Every profile a member may name, by name.
PROFILES: dict[str, Profile] = {p.name: p for p in (OpenAIStrict(),)}


def get_profile(name: str) -> Profile | None:
    """The registered profile called `name`, or None."""
    return PROFILES.get(name)


def effective_doc(profile: Profile, doc: SchemaDoc) -> SchemaDoc:
    """`doc` as the model generates it: the profile's rewrite of the schema and of every file
    it references (as a bundler would inline them); the same URI, so `$ref`s still resolve."""
    return SchemaDoc.model_validate(
        {
            "uri": doc.uri,
            "schema": profile.effective(doc.schema_),
            "resources": {u: profile.effective(r, root=False) for u, r in doc.resources.items()},
        }
    )
