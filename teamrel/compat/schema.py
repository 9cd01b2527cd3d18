"""Schema front end of the compatibility engine: documents, nodes, dialects and `$ref`s.

Owns `Side` (one schema document with its resources, its `referencing` registry and the
reference validators, python-jsonschema, that verify every witness) and `Node` (one
subschema in its context: dialect, base URI / dynamic scope, location). `Node.kw` is the
node's keywords normalised to 2020-12 semantics, whatever its dialect: draft-04 boolean
exclusive bounds, array-form `items` + `additionalItems`, `dependencies`, keywords beside
`$ref` ignored in draft <= 7, keywords unknown to the dialect dropped (they are annotations
for the reference validator too), `format` kept only when it is an assertion. That reading is
`dialects.normalise`; the validator classes a `Side` validates with are built in `readings`.

Resolution deliberately mirrors python-jsonschema + referencing (same registry, same
resolver chain, dialect switched only by a subschema's own `$schema`), so that what the
engine proves is what the reference validator enforces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import jsonschema
import jsonschema.exceptions
import jsonschema.validators
import referencing
import referencing.exceptions
import referencing.jsonschema
from jsonschema.validators import validator_for
from jsonschema_specifications import REGISTRY as SPECIFICATIONS  # type: ignore[import-untyped]

from teamrel.canonical import JSON, JsonObject
from teamrel.compat import wellformed
from teamrel.compat.dialects import normalise, vocabulary
from teamrel.compat.evaluate import (
    ValidationUnavailable,
    json_type,
)
from teamrel.compat.readings import (
    DISAGREE,
    REF_CACHE,
    VALID_MEMO,
    dialect_name,
    dual_class,
    reference_class,
    spec_class,
)
from teamrel.errors import RefError, SchemaError
from teamrel.jsonpointer import escape_token, pointer
from teamrel.models import SchemaDoc

#: Keywords that only annotate: never asserted by any dialect.

#: In-place applicators: keywords whose subschemas apply to the instance itself.
APPLICATORS = ("allOf", "anyOf", "oneOf", "not", "if", "$ref", "$dynamicRef", "$recursiveRef")


class Unmodelled(Exception):
    """A construct the engine does not model; the check answers "unknown" with this reason."""

    def __init__(self, what: str, location: str, reason: str | None = None) -> None:
        super().__init__(reason or f"{what} at {location}")
        self.what = what
        self.location = location
        #: `reason`: for a construct that is modelled but cannot be decided exactly
        self.reason = reason or f"{what} is not modelled (at {location})"


#: a JSON pointer reference token, escaped (`teamrel.jsonpointer`)
escape = escape_token


def pointer_of(path: Iterator[Any] | list[Any] | tuple[Any, ...]) -> str:
    """A JSON pointer from a sequence of keys/indexes."""
    return pointer(path)


_SPECIFICATIONS: dict[Any, Any] = {}


def _specification(cls: type[Any]) -> Any:
    got = _SPECIFICATIONS.get(cls)
    if got is None:
        got = referencing.jsonschema.specification_with(
            dialect_id=cls.ID_OF(cls.META_SCHEMA) or "urn:unknown-dialect",
            default=referencing.Specification.OPAQUE,
        )
        _SPECIFICATIONS[cls] = got
    return got


_SIDES: dict[tuple[str, bool, str], Side] = {}
_DOC_SIDES: dict[tuple[int, str, bool], tuple[SchemaDoc, Side]] = {}


def cached_side(doc: SchemaDoc | JSON, label: str, *, format_assertion: bool) -> Side | None:
    """The cached `Side` of a `SchemaDoc` recognised by identity, if any."""
    if isinstance(doc, SchemaDoc):
        by_id = _DOC_SIDES.get((id(doc), label, format_assertion))
        if by_id is not None and by_id[0] is doc:
            return by_id[1]
    return None


def fingerprint_of(doc: SchemaDoc | JSON) -> str | None:
    """Canonical text of (uri, schema, resources): the identity of a side's content
    (None when it is not JSON: `Side` reports what is wrong)."""
    if isinstance(doc, SchemaDoc):
        uri, schema, resources = doc.uri, doc.schema_, doc.resources
    else:
        uri, schema, resources = "", doc, {}
    try:
        return json.dumps([uri, schema, resources], allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return None


def load_side(
    doc: SchemaDoc | JSON,
    label: str,
    *,
    format_assertion: bool,
    fingerprint: str | None = None,
) -> Side:
    """A `Side` for `doc`; a `SchemaDoc`'s side is reused from a small cache when the same
    content was seen.

    A `SchemaDoc` (an immutable model) is also recognised by identity, which spares
    re-serialising a large contract on every edge that uses it. `fingerprint`: the
    `fingerprint_of(doc)` when the caller already computed it.
    """
    by_id = cached_side(doc, label, format_assertion=format_assertion)
    if by_id is not None:
        return by_id
    if not isinstance(doc, SchemaDoc):
        # a plain JSON document is the caller's (it may change after the call): its side,
        # built on the caller's objects without a copy or a fingerprint, serves this check
        return Side(doc, label, format_assertion=format_assertion, private=False)
    if fingerprint is None:
        fingerprint = fingerprint_of(doc)
    key: tuple[str, bool, str] | None = None
    if fingerprint is not None:
        key = (label, format_assertion, fingerprint)
        got = _SIDES.get(key)
        if got is not None:
            return got
    side = Side(doc, label, format_assertion=format_assertion, fingerprint=fingerprint)
    if key is not None:
        if len(_SIDES) >= 64:
            _SIDES.pop(next(iter(_SIDES)))
        _SIDES[key] = side
    if len(_DOC_SIDES) >= 64:
        _DOC_SIDES.pop(next(iter(_DOC_SIDES)))
    # the doc is kept alive with its side, so its id cannot be reused meanwhile
    _DOC_SIDES[(id(doc), label, format_assertion)] = (doc, side)
    return side


class Side:
    """One schema document (producer or consumer) with everything needed to reason on it."""

    def __init__(
        self,
        doc: SchemaDoc | JSON,
        label: str,
        *,
        format_assertion: bool,
        fingerprint: str | None = None,
        private: bool = True,
    ) -> None:
        self.label = label
        self.format_assertion = format_assertion
        if isinstance(doc, SchemaDoc):
            uri, schema, resources = doc.uri, doc.schema_, dict(doc.resources)
        else:
            uri, schema, resources = "", doc, {}
        self.uri = uri
        self.schema: JSON = schema
        if not isinstance(schema, (dict, bool)):
            raise SchemaError(
                f"{label} schema must be a JSON object or a boolean, not {json_type(schema)}",
                uri=uri or None,
                pointer="",
            )
        default = jsonschema.Draft202012Validator
        self.root_cls: type[Any] = _root_class(schema, label, uri, default)
        if fingerprint is None and private:
            try:
                fingerprint = json.dumps([uri, schema, resources], allow_nan=False)
            except RecursionError:
                raise SchemaError(
                    f"{label} schema is nested too deeply to be analysed", uri=uri or None
                ) from None
            except (TypeError, ValueError):
                raise SchemaError(f"{label} schema is not JSON", uri=uri or None) from None
        #: JSON text of (uri, schema, resources), the identity of a cached side's content
        #: (None for a plain document: its side is not cached)
        self.fingerprint = fingerprint
        if private and fingerprint is not None:
            # a cached side owns a private copy: callers may mutate their dicts, and node
            # identities (id of each schema object) must stay stable while it lives
            _u, schema, resources = json.loads(fingerprint)
        self.schema = schema
        self.resources: dict[str, JSON] = resources
        self.uri = uri
        known = _CHECKED.get(fingerprint) if fingerprint is not None else None
        scans: list[tuple[str, type[Any], wellformed.Scan]] = []
        if known is None:
            scans.append((uri, self.root_cls, _scan(self.root_cls, schema, label, uri)))
        res_pairs: list[tuple[str, Any]] = []
        for res_uri, contents in resources.items():
            if not isinstance(contents, (dict, bool)):
                raise SchemaError(f"resource {res_uri} is not a schema", uri=res_uri, pointer="")
            res_cls = _root_class(contents, label, res_uri, default)
            if known is None:
                scans.append((res_uri, res_cls, _scan(res_cls, contents, label, res_uri)))
            res_pairs.append(
                (
                    res_uri,
                    referencing.Resource.from_contents(
                        contents, default_specification=_specification(res_cls)
                    ),
                )
            )
        self._res_pairs = res_pairs
        markers: frozenset[str] = known if known is not None else _markers(scans)
        resolver = self._build_registry(markers)
        if known is None:
            visited: set[int] = set()
            for _u, _c, found in scans:
                visited |= found.visited
            outside = False
            for doc_uri, doc_cls, found in scans:
                outside |= self._check_scan(doc_uri, doc_cls, found, visited)
            if outside:
                # a reference into a place no keyword makes a schema (a `default`, an
                # unknown keyword): read the whole text for markers, as conservatively as
                # any occurrence of them anywhere
                markers = markers | _text_markers([uri, schema, resources])
                resolver = self._build_registry(markers)
            if fingerprint is not None:
                if len(_CHECKED) > 4096:
                    _CHECKED.clear()
                _CHECKED[fingerprint] = markers
        #: base URI of the root document (its $id resolved against its URI)
        self.base: str = getattr(resolver, "_base_uri", uri)
        self.dynamic = not markers.isdisjoint(_DYNAMIC_MARKERS)
        legacy_id = "legacy id" in markers
        #: whether equal subschema text means equal schema anywhere in this side (same
        #: base URI given): no identifier can move a base URI, no dynamic scope
        self.context_free = not self.dynamic and "$id" not in markers and not legacy_id
        self._validators: dict[tuple[type[Any], bool], Any] = {}
        #: the validators' `$ref` lookups (static scope only: see `_cached_reference`)
        self._refs: dict[Any, Any] | None = None if self.dynamic else {}
        self._locations: dict[int, Any] | None = None
        #: the prover's per-node decompositions and synthetic nodes, reused across checks
        self.parts_cache: dict[Any, Any] = {}
        #: targets of references, by (keyword, reference, base URI, dialect) (static scope)
        self.follows: dict[Any, Node] = {}
        self.synthetic: dict[Any, Node] = {}
        #: whether the specification's reading can differ from python-jsonschema's here
        self.spec_differs = not markers.isdisjoint(_SPEC_MARKERS) or (
            format_assertion and "format" in markers
        )
        self.root = Node(schema, self, self.root_cls, resolver, f"{label}#", "")

    def _build_registry(self, markers: frozenset[str]) -> Any:
        """This side's registry (`self.registry`), and the root's resolver."""
        schema, uri = self.schema, self.uri
        root_resource = _specification(self.root_cls).create_resource(schema)
        registry: Any = referencing.Registry().with_resources(self._res_pairs)
        # embedded resources ($id) and anchors need the registry crawled up front; plain
        # JSON-pointer references do not (and crawling a large contract is costly)
        if not markers.isdisjoint(_CRAWL_MARKERS):
            registry = registry.crawl()
        if uri:
            registry = registry.with_resource(uri, root_resource)
            self.registry: Any = SPECIFICATIONS.combine(registry)
            return self.registry.resolver(base_uri=uri).in_subresource(root_resource)
        # as python-jsonschema's resolver_with_root: the root under its own $id (or "")
        root_id = root_resource.id() or ""
        registry = registry.with_resource(root_id, root_resource)
        self.registry = SPECIFICATIONS.combine(registry)
        return self.registry.resolver(base_uri=root_id)

    def _check_scan(
        self, doc_uri: str, cls: type[Any], found: wellformed.Scan, visited: set[int]
    ) -> bool:
        """Every pattern must be ECMA-262, every `$ref` must resolve to a schema (RefError).

        A reference to a place the walk did not reach as a schema (inside a `default`, an
        unknown keyword...) makes it one: it is checked as a schema too, and True returned.
        """
        outside = False
        where = f"{self.label}#" if doc_uri == self.uri else f"{doc_uri}#"
        for p, path in found.patterns:
            self._check_pattern(p, None, doc_uri, path, where)
        resolvers: dict[str, Any] = {}
        done: set[tuple[str, str, str]] = set()
        for keyword, ref, base, path in found.refs:
            if keyword == "$recursiveRef":
                continue  # resolved dynamically; not modelled (unknown where reached)
            if (keyword, ref, base) in done:
                continue  # the same reference from the same base: already resolved
            done.add((keyword, ref, base))
            resolver = resolvers.get(base)
            if resolver is None:
                resolver = resolvers[base] = self.registry.resolver(base_uri=base)
            loc = f"{where}{wellformed.pointer(path)}"
            try:
                target = resolver.lookup(ref).contents
            except referencing.exceptions.Unresolvable:
                raise RefError(
                    f"{self.label} schema: unresolvable {keyword} {ref!r} at {loc}",
                    uri=doc_uri or None,
                    pointer=wellformed.pointer(path),
                ) from None
            if not isinstance(target, (dict, bool)):
                raise RefError(
                    f"{self.label} schema: {keyword} {ref!r} at {loc} does not point to a schema",
                    uri=doc_uri or None,
                    pointer=wellformed.pointer(path),
                )
            if isinstance(target, dict) and id(target) not in visited:
                outside = True
                extra = _scan(cls, target, self.label, base)
                visited |= extra.visited
                found.refs.extend(r for r in extra.refs if r not in found.refs)
                for p, _where in extra.patterns:
                    reached = f"reached through {keyword} {ref!r} at {loc}"
                    self._check_pattern(p, reached, doc_uri, path, where)
        return outside

    def _check_pattern(
        self, pattern: str, reached: str | None, doc_uri: str, path: wellformed.Path, where: str
    ) -> None:
        """A `SchemaError` at `path` unless `pattern` is a valid ECMA-262 expression
        (`reached`: how a pattern found outside the document's own schemas was reached)."""
        if not _valid_pattern(pattern):
            ptr = wellformed.pointer(path)
            raise SchemaError(
                f"{self.label} schema: {pattern!r} is not a valid ECMA-262 regular expression "
                f"({reached or f'at {where}{ptr}'})",
                uri=doc_uri or None,
                pointer=ptr,
            )

    def locate_along(self, obj: Any, path: Any) -> str | None:
        """`locate(obj)`, found by following `path` (a validator error's absolute schema
        path, `$ref`s included) from the root when it leads there: spares indexing a large
        document for one error."""
        if isinstance(obj, dict) and not self.dynamic:
            try:
                node = self.root
                keys = list(path)
                i = 0
                while node.raw is not obj and i < len(keys):
                    key = keys[i]
                    raw = node.raw
                    if not isinstance(raw, dict):
                        break
                    if key == "$ref" and isinstance(raw.get("$ref"), str):
                        node = node.follow("$ref", raw["$ref"])
                        i += 1
                        continue
                    sub = raw.get(key) if isinstance(key, str) else None
                    if isinstance(sub, list) and i + 1 < len(keys):
                        index = keys[i + 1]
                        if not isinstance(index, int) or not 0 <= index < len(sub):
                            break
                        node = node.child(sub[index], key, index)
                        i += 2
                    elif isinstance(sub, dict) and key not in ("properties", "$defs"):
                        node = node.child(sub, key)
                        i += 1
                    elif isinstance(sub, dict) and i + 1 < len(keys):
                        name = keys[i + 1]
                        if not isinstance(name, str) or name not in sub:
                            break
                        node = node.child(sub[name], key, name)
                        i += 2
                    else:
                        break
                if node.raw is obj:
                    found = self.locate(obj) if self._locations is not None else None
                    return found or node.loc
            except Exception:  # an unexpected path: the full index answers
                pass
        return self.locate(obj)

    def locate(self, obj: Any) -> str | None:
        """Location of a schema object of this side: `<label>#/pointer` in the root document,
        `<resource uri>#/pointer` in another resource (None if not found)."""
        if not isinstance(obj, dict):
            return None
        if self._locations is None:
            # every object's (parent entry, key): the pointer text is only built for the
            # objects asked for
            locations: dict[int, Any] = {}
            docs: list[tuple[str, JSON]] = [(f"{self.label}#", self.schema)]
            docs.extend((f"{u}#", c) for u, c in self.resources.items())
            for prefix, doc in docs:
                stack: list[tuple[JSON, Any]] = [(doc, prefix)]
                while stack and len(locations) < 200_000:
                    raw, entry = stack.pop()
                    if isinstance(raw, dict):
                        locations.setdefault(id(raw), entry)
                        for k, v in raw.items():
                            if isinstance(v, (dict, list)):
                                stack.append((v, (entry, k)))
                    elif isinstance(raw, list):
                        for i, v in enumerate(raw):
                            if isinstance(v, (dict, list)):
                                stack.append((v, (entry, i)))
            self._locations = locations
        entry = self._locations.get(id(obj))
        if entry is None:
            return None
        keys: list[str] = []
        while isinstance(entry, tuple):
            entry, key = entry
            keys.append(escape(key) if isinstance(key, str) else str(key))
        return str(entry) + "".join("/" + k for k in reversed(keys))

    # ---------------------------------------------------------------- reference validation

    def validator(self, cls: type[Any], *, reference: bool = False) -> Any:
        """A validator of dialect `cls` on this side's registry.

        `reference=True`: plain python-jsonschema. Otherwise the specification's reading
        (exact decimal `multipleOf`, ECMA-262 patterns), which proofs are made in.
        """
        key = (cls, reference)
        v = self._validators.get(key)
        if v is None:
            checker = cls.FORMAT_CHECKER if self.format_assertion else None
            vcls = reference_class(cls) if reference else spec_class(cls, self.label == "consumer")
            v = vcls(
                {},
                registry=self.registry,
                format_checker=checker,
                _resolver=self.registry.resolver(),
            )
            self._validators[key] = v
        return v

    def is_valid(self, node: Node, instance: JSON) -> bool:
        """Whether the reference validator accepts `instance` under `node`."""
        if node.raw is True:
            return True
        if node.raw is False:
            return False
        token = REF_CACHE.set(self._refs)
        vtoken = VALID_MEMO.set(None if self._refs is None else {})
        try:
            errors = self.validator(node.cls).descend(instance, node.raw, resolver=node.resolver)
            return next(errors, None) is None
        except ValidationUnavailable:
            raise
        except (
            RecursionError,
            OverflowError,
            ValueError,
            ZeroDivisionError,
            re.error,
            jsonschema.exceptions.UnknownType,  # a draft-03 type name it does not know
        ) as exc:
            msg = f"reference validator failed: {type(exc).__name__}"
            raise ValidationUnavailable(msg) from None
        except referencing.exceptions.Unresolvable as exc:
            raise RefError(f"unresolvable $ref {exc.ref!r} in {self.label} schema") from None
        except jsonschema.exceptions._WrappedReferencingError as exc:
            raise RefError(f"unresolvable $ref in {self.label} schema: {exc}") from None
        finally:
            VALID_MEMO.reset(vtoken)
            REF_CACHE.reset(token)

    def valid_in_both_readings(self, instance: JSON) -> bool:
        """Whether python-jsonschema accepts `instance` under the whole document, and so
        does the specification's reading (exact decimal `multipleOf`, ECMA-262 patterns)."""
        errors, may_differ = self.errors_noting(instance)
        if errors:
            return False
        return not may_differ or not self.errors(instance, reference=False)

    def errors_noting(self, instance: JSON) -> tuple[list[Any], bool]:
        """python-jsonschema's errors for `instance` under the whole document, and whether
        the specification's reading (`validator()`) may answer differently.

        One reference validation that also evaluates, at every `multipleOf`, `pattern`,
        `patternProperties` and `additionalProperties` (and, for the consumer, `format`) it
        meets, the specification's reading of that keyword: when they agree everywhere,
        both readings take the same path to the same answer (valid or not); only a
        disagreement calls for the second, full validation.
        """
        if not self.spec_differs:
            return self.errors(instance), False
        dual = dual_class(self.root.cls, self.label == "consumer")
        if dual is None:
            return self.errors(instance), True
        box = [False]
        token = DISAGREE.set(box)
        try:
            errors = self._errors(self._dual_validator(dual), instance)
        finally:
            DISAGREE.reset(token)
        return errors, box[0]

    def _dual_validator(self, dual: type[Any]) -> Any:
        v = self._validators.get((dual, True))
        if v is None:
            checker = dual.FORMAT_CHECKER if self.format_assertion else None
            v = dual(
                {},
                registry=self.registry,
                format_checker=checker,
                _resolver=self.registry.resolver(),
            )
            self._validators[(dual, True)] = v
        return v

    def errors(self, instance: JSON, *, reference: bool = True) -> list[Any]:
        """The validator's errors for `instance` under the whole document."""
        return self._errors(self.validator(self.root.cls, reference=reference), instance)

    def _errors(self, v: Any, instance: JSON) -> list[Any]:
        node = self.root
        if node.raw is True:
            return []
        token = REF_CACHE.set(self._refs)
        vtoken = VALID_MEMO.set(None if self._refs is None else {})
        try:
            return list(v.descend(instance, node.raw, resolver=node.resolver))
        except ValidationUnavailable:
            raise
        except (
            RecursionError,
            OverflowError,
            ValueError,
            ZeroDivisionError,
            re.error,
            jsonschema.exceptions.UnknownType,  # a draft-03 type name it does not know
        ) as exc:
            msg = f"reference validator failed: {type(exc).__name__}"
            raise ValidationUnavailable(msg) from None
        except (
            referencing.exceptions.Unresolvable,
            jsonschema.exceptions._WrappedReferencingError,
        ) as exc:
            raise RefError(f"unresolvable $ref in {self.label} schema: {exc}") from None
        finally:
            VALID_MEMO.reset(vtoken)
            REF_CACHE.reset(token)


#: Deepest JSON nesting of a schema document the engine accepts (same cap as
#: teamrel.contracts.MAX_SCHEMA_DEPTH): keeps every walk, and the reference validator's own
#: recursion, far from Python's recursion limit.
MAX_JSON_DEPTH = 128


def json_depth(doc: JSON, limit: int = MAX_JSON_DEPTH + 1) -> int:
    """Nesting depth of a JSON document (iterative; stops counting past `limit`)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        v, d = stack.pop()
        if d > deepest:
            deepest = d
            if deepest > limit:
                return deepest
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values() if isinstance(x, (dict, list)))
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v if isinstance(x, (dict, list)))
    return deepest


def _valid_pattern(p: str) -> bool:
    try:
        from teamrel.compat import regex as rx
    except ImportError:  # pragma: no cover
        return True
    try:
        return bool(rx.is_valid_pattern(p))
    except Exception:
        return True


def _root_class(schema: JSON, label: str, uri: str, default: type[Any]) -> type[Any]:
    if isinstance(schema, dict) and "$schema" in schema:
        cls = validator_for(schema, default=None)
        if cls is None:
            raise SchemaError(
                f"{label} schema: unknown $schema dialect {schema['$schema']!r}",
                uri=uri or None,
                pointer="/$schema",
            )
        return cls  # type: ignore[no-any-return]
    return default


#: well-formed documents already walked (by fingerprint), with their markers
_CHECKED: dict[str, frozenset[str]] = {}

#: identifiers that only a crawled registry knows (draft-04's "id" included)
_CRAWL_MARKERS = frozenset(("$id", "$anchor", "$dynamicAnchor", "$recursiveAnchor", "legacy id"))
_DYNAMIC_MARKERS = frozenset(("$dynamicAnchor", "$recursiveAnchor", "$dynamicRef", "$recursiveRef"))
_SPEC_MARKERS = frozenset(("multipleOf", "divisibleBy", "pattern", "patternProperties"))


def _markers(scans: list[tuple[str, type[Any], wellformed.Scan]]) -> frozenset[str]:
    """The markers of every walked document; "legacy id": a draft-03/04 `id`, or an `id`
    where a subschema switches dialect (which could make it one)."""
    found: set[str] = set()
    for _uri, cls, scan in scans:
        found |= scan.markers
        if "id" in scan.markers and (
            dialect_name(cls) in ("draft3", "draft4") or "$schema" in scan.markers
        ):
            found.add("legacy id")
    return frozenset(found)


def _text_markers(doc: Any) -> frozenset[str]:
    """Every marker occurring anywhere in `doc`'s text (conservative: in values too)."""
    try:
        text = json.dumps(doc)
    except (TypeError, ValueError, RecursionError):
        return frozenset((*wellformed.MARKERS, "legacy id"))
    found = {m for m in wellformed.MARKERS if f'"{m}"' in text}
    if "id" in found:
        found.add("legacy id")
    return frozenset(found)


def _scan(cls: type[Any], schema: JSON, label: str, uri: str) -> wellformed.Scan:
    found = wellformed.scan(schema, dialect_name(cls), vocabulary(cls), uri, MAX_JSON_DEPTH)
    if found.problem is not None:
        ptr, message = found.problem
        if message.startswith("nested too deeply"):
            raise SchemaError(f"{label} schema is {message}", uri=uri or None, pointer=ptr)
        raise SchemaError(
            f"{label} schema is not a valid {dialect_name(cls)} schema at {ptr or '/'}: {message}",
            uri=uri or None,
            pointer=ptr,
        )
    return found


class Node:
    """One subschema in context: raw JSON, dialect class, resolver (base URI), location."""

    __slots__ = (
        "_cache",
        "_kw",
        "_loc",
        "_parent",
        "_path",
        "_ptr",
        "cls",
        "key",
        "raw",
        "resolver",
        "side",
    )

    def __init__(
        self,
        raw: JSON,
        side: Side,
        cls: type[Any],
        resolver: Any,
        loc: str | None,
        ptr: str | None,
        parent: Node | None = None,
        path: tuple[str | int, ...] = (),
    ) -> None:
        self.raw = raw
        self.side = side
        self.cls = cls
        self.resolver = resolver
        # a child's location is only spelled out when asked for (most never are)
        self._loc = loc
        self._ptr = ptr
        self._parent = parent
        self._path = path
        scope: Any = None
        if side.dynamic:
            scope = (
                getattr(resolver, "_base_uri", None),
                tuple(getattr(resolver, "_previous", ())),
            )
        self.key = (id(raw), cls, id(side), scope)
        self._kw: dict[str, Any] | None = None
        self._cache: dict[Any, Any] | None = None  # children and $ref targets, when asked

    def __repr__(self) -> str:
        return f"Node({self.loc})"

    def _suffix(self) -> str:
        return "".join("/" + escape(str(p)) for p in self._path)

    @property
    def loc(self) -> str:
        """Schema location: `producer#/pointer`, or a resource URI with a pointer."""
        if self._loc is None:
            assert self._parent is not None
            self._loc = self._parent.loc + self._suffix()
        return self._loc

    @loc.setter
    def loc(self, value: str) -> None:
        self._loc = value

    @property
    def ptr(self) -> str:
        """JSON pointer of the node inside its document."""
        if self._ptr is None:
            assert self._parent is not None
            self._ptr = self._parent.ptr + self._suffix()
        return self._ptr

    @property
    def dialect(self) -> str:
        """The dialect this node is interpreted under."""
        return dialect_name(self.cls)

    def child(self, raw: JSON, *path: str | int) -> Node:
        """The subschema `raw` found under this node at `path` (relative JSON pointer)."""
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        ckey = (id(raw), path)
        got = cache.get(ckey)
        if got is not None:
            return got  # type: ignore[no-any-return]
        got = self._child(raw, *path)
        cache[ckey] = got
        return got

    def _child(self, raw: JSON, *path: str | int) -> Node:
        cls = self.cls
        resolver = self.resolver
        if isinstance(raw, dict):
            if "$schema" in raw:
                cls = validator_for(raw, default=cls)
            if "$id" in raw or "id" in raw:  # only an id can move the base URI
                resolver = resolver.in_subresource(_specification(self.cls).create_resource(raw))
        return Node(raw, self.side, cls, resolver, None, None, self, path)

    def follow(self, keyword: str, ref: str) -> Node:
        """The target of this node's `$ref` / `$dynamicRef`."""
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        ckey = ("$follow", keyword, ref)
        got = cache.get(ckey)
        if got is None:
            side = self.side
            if side.dynamic:
                got = self._follow(keyword, ref)
            else:
                # without a dynamic scope, a reference's target depends only on the base URI
                # (and the dialect it is read under): many `$ref`s to one definition share it
                skey = (keyword, ref, getattr(self.resolver, "_base_uri", None), self.cls)
                got = side.follows.get(skey)
                if got is None:
                    got = side.follows[skey] = self._follow(keyword, ref)
            cache[ckey] = got
        return got

    def _follow(self, keyword: str, ref: str) -> Node:
        try:
            if keyword == "$recursiveRef":
                # 2019-09: resolved against the dynamic scope, as python-jsonschema does
                resolved = referencing.jsonschema.lookup_recursive_ref(self.resolver)
                ref = "#"
            else:
                resolved = self.resolver.lookup(ref)
        except referencing.exceptions.Unresolvable as exc:
            raise RefError(
                f"{self.side.label} schema: unresolvable {keyword} {ref!r} at {self.loc}",
                pointer=self.ptr + "/" + keyword,
            ) from exc
        contents = resolved.contents
        cls = self.cls
        if isinstance(contents, dict) and "$schema" in contents:
            cls = validator_for(contents, default=cls)
        base = getattr(self.resolver, "_base_uri", "")
        target = _join(base, ref)
        doc, _, frag = target.partition("#")
        side = self.side
        if frag.startswith("/") or frag == "":
            if doc == side.base:
                loc = f"{side.label}#{frag}"
            elif doc in side.resources:
                loc = f"{doc}#{frag}"
            else:
                loc = side.locate(contents) or self.loc
        else:  # an anchor: find where it is
            loc = side.locate(contents) or self.loc
        ptr = frag if frag.startswith("/") else ""
        return Node(contents, self.side, cls, resolved.resolver, loc, ptr)

    @property
    def kw(self) -> JsonObject:
        """Keywords normalised to 2020-12 semantics (values stay raw JSON)."""
        if self._kw is None:
            self._kw = normalise(self.raw, self.cls, self.side.format_assertion)
        return self._kw


def _join(base: str, ref: str) -> str:
    from urllib.parse import urljoin

    if ref.startswith("#"):
        return base + ref
    return urljoin(base, ref)


def ref_uri(node: Node) -> str:
    """An absolute reference to `node` (for messages)."""
    return node.loc if node.ptr == "" else node.loc.partition("#")[0] + "#" + quote(node.ptr)
