"""Schema front end of the compatibility engine: documents, nodes, dialects and `$ref`s.

Owns `Side` (one schema document with its resources, its `referencing` registry and the
reference validators, python-jsonschema, that verify every witness) and `Node` (one
subschema in its context: dialect, base URI / dynamic scope, location). `Node.kw` is the
node's keywords normalised to 2020-12 semantics, whatever its dialect: draft-04 boolean
exclusive bounds, array-form `items` + `additionalItems`, `dependencies`, keywords beside
`$ref` ignored in draft <= 7, keywords unknown to the dialect dropped (they are annotations
for the reference validator too), `format` kept only when it is an assertion.

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

import attrs
import jsonschema
import jsonschema.exceptions
import jsonschema.validators
import referencing
import referencing.exceptions
import referencing.jsonschema
from jsonschema.validators import validator_for
from jsonschema_specifications import REGISTRY as SPECIFICATIONS  # type: ignore[import-untyped]

from teamrel.canonical import JSON
from teamrel.compat import wellformed
from teamrel.compat.evaluate import ValidationUnavailable, multiple_of, search
from teamrel.errors import RefError, SchemaError
from teamrel.models import SchemaDoc

#: Keywords that only annotate: never asserted by any dialect.
DIALECT_NAMES: dict[str, str] = {
    "Draft3Validator": "draft3",
    "Draft4Validator": "draft4",
    "Draft6Validator": "draft6",
    "Draft7Validator": "draft7",
    "Draft201909Validator": "draft2019-09",
    "Draft202012Validator": "draft2020-12",
}
_LEGACY_REF = {"draft3", "draft4", "draft6", "draft7"}

#: In-place applicators: keywords whose subschemas apply to the instance itself.
APPLICATORS = ("allOf", "anyOf", "oneOf", "not", "if", "$ref", "$dynamicRef", "$recursiveRef")


class Unmodelled(Exception):
    """A construct the engine does not model; the check answers "unknown" with this reason."""

    def __init__(self, what: str, location: str) -> None:
        super().__init__(f"{what} at {location}")
        self.what = what
        self.location = location


def escape(token: str) -> str:
    """A JSON pointer reference token."""
    return token.replace("~", "~0").replace("/", "~1")


def pointer_of(path: Iterator[Any] | list[Any] | tuple[Any, ...]) -> str:
    """A JSON pointer from a sequence of keys/indexes."""
    return "".join("/" + escape(str(p)) for p in path)


def dialect_name(cls: type[Any]) -> str:
    """ "draft7", "draft2020-12"... for a python-jsonschema validator class."""
    return DIALECT_NAMES.get(cls.__name__, "draft2020-12")


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


def load_side(doc: SchemaDoc | JSON, label: str, *, format_assertion: bool) -> Side:
    """A `Side` for `doc`, reused from a small cache when the same content was seen.

    A `SchemaDoc` (an immutable model) is also recognised by identity, which spares
    re-serialising a large contract on every edge that uses it.
    """
    if isinstance(doc, SchemaDoc):
        by_id = _DOC_SIDES.get((id(doc), label, format_assertion))
        if by_id is not None and by_id[0] is doc:
            return by_id[1]
        uri, schema, resources = doc.uri, doc.schema_, doc.resources
    else:
        uri, schema, resources = "", doc, {}
    key: tuple[str, bool, str] | None = None
    try:
        key = (
            label,
            format_assertion,
            json.dumps([uri, schema, resources], sort_keys=True, allow_nan=False),
        )
    except (TypeError, ValueError, RecursionError):
        key = None  # Side() reports what is wrong
    if key is not None:
        got = _SIDES.get(key)
        if got is not None:
            return got
    side = Side(
        doc,
        label,
        format_assertion=format_assertion,
        fingerprint=key[2] if key is not None else None,
    )
    if key is not None:
        if len(_SIDES) >= 64:
            _SIDES.pop(next(iter(_SIDES)))
        _SIDES[key] = side
    if isinstance(doc, SchemaDoc):
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
                f"{label} schema must be a JSON object or a boolean, not {_json_type(schema)}",
                uri=uri or None,
                pointer="",
            )
        default = jsonschema.Draft202012Validator
        self.root_cls: type[Any] = _root_class(schema, label, uri, default)
        if fingerprint is None:
            try:
                fingerprint = json.dumps([uri, schema, resources], sort_keys=True, allow_nan=False)
            except RecursionError:
                raise SchemaError(
                    f"{label} schema is nested too deeply to be analysed", uri=uri or None
                ) from None
            except (TypeError, ValueError):
                raise SchemaError(f"{label} schema is not JSON", uri=uri or None) from None
        #: canonical text of (uri, schema, resources): identity of this side's content
        self.fingerprint = fingerprint
        # the side owns a private copy: callers may mutate their dicts, and node identities
        # (id of each schema object) must stay stable while a cached side lives
        _u, schema, resources = json.loads(fingerprint)
        self.schema = schema
        checked = fingerprint in _CHECKED
        scans: list[tuple[str, wellformed.Scan]] = []
        if not checked:
            scans.append((uri, _scan(self.root_cls, schema, label, uri)))
        pairs: list[tuple[str, Any]] = []
        for res_uri, contents in resources.items():
            if not isinstance(contents, (dict, bool)):
                raise SchemaError(f"resource {res_uri} is not a schema", uri=res_uri, pointer="")
            res_cls = _root_class(contents, label, res_uri, default)
            if not checked:
                scans.append((res_uri, _scan(res_cls, contents, label, res_uri)))
            pairs.append(
                (
                    res_uri,
                    referencing.Resource.from_contents(
                        contents, default_specification=_specification(res_cls)
                    ),
                )
            )
        root_resource = _specification(self.root_cls).create_resource(schema)
        registry: Any = referencing.Registry().with_resources(pairs)
        # embedded resources ($id) and anchors need the registry crawled up front; plain
        # JSON-pointer references do not (and crawling a large contract is costly)
        if any(k in fingerprint for k in _CRAWL_MARKERS):
            registry = registry.crawl()
        if uri:
            registry = registry.with_resource(uri, root_resource)
            self.registry: Any = SPECIFICATIONS.combine(registry)
            resolver = self.registry.resolver(base_uri=uri).in_subresource(root_resource)
        else:
            # as python-jsonschema's resolver_with_root: the root under its own $id (or "")
            root_id = root_resource.id() or ""
            registry = registry.with_resource(root_id, root_resource)
            self.registry = SPECIFICATIONS.combine(registry)
            resolver = self.registry.resolver(base_uri=root_id)
        #: base URI of the root document (its $id resolved against its URI)
        self.base: str = getattr(resolver, "_base_uri", uri)
        self.dynamic = any(
            k in fingerprint
            for k in ('"$dynamicAnchor"', '"$recursiveAnchor"', '"$dynamicRef"', '"$recursiveRef"')
        )
        self._validators: dict[tuple[type[Any], bool], Any] = {}
        self.resources: dict[str, JSON] = resources
        self._locations: dict[int, str] | None = None
        #: the prover's per-node decompositions and synthetic nodes, reused across checks
        self.parts_cache: dict[Any, Any] = {}
        self.synthetic: dict[Any, Node] = {}
        #: whether the specification's reading can differ from python-jsonschema's here
        self.spec_differs = any(
            k in self.fingerprint for k in ('"multipleOf"', '"pattern"', '"patternProperties"')
        ) or (format_assertion and '"format"' in self.fingerprint)
        self.root = Node(schema, self, self.root_cls, resolver, f"{label}#", "")
        if not checked:
            for doc_uri, found in scans:
                self._check_scan(doc_uri, found)
            if len(_CHECKED) > 4096:
                _CHECKED.clear()
            _CHECKED[fingerprint] = None

    def _check_scan(self, doc_uri: str, found: wellformed.Scan) -> None:
        """Every pattern must be ECMA-262, every `$ref` must resolve to a schema (RefError)."""
        where = f"{self.label}#" if doc_uri == self.uri else f"{doc_uri}#"
        for p, path in found.patterns:
            if not _valid_pattern(p):
                raise SchemaError(
                    f"{self.label} schema: {p!r} is not a valid ECMA-262 regular expression "
                    f"(at {where}{wellformed.pointer(path)})",
                    uri=doc_uri or None,
                    pointer=wellformed.pointer(path),
                )
        resolvers: dict[str, Any] = {}
        for keyword, ref, base, path in found.refs:
            if keyword == "$recursiveRef":
                continue  # resolved dynamically; not modelled (unknown where reached)
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

    def locate(self, obj: Any) -> str | None:
        """Location of a schema object of this side: `<label>#/pointer` in the root document,
        `<resource uri>#/pointer` in another resource (None if not found)."""
        if not isinstance(obj, dict):
            return None
        if self._locations is None:
            self._locations = {}
            docs: list[tuple[str, JSON]] = [(f"{self.label}#", self.schema)]
            docs.extend((f"{u}#", c) for u, c in self.resources.items())
            for prefix, doc in docs:
                stack: list[tuple[JSON, str]] = [(doc, prefix)]
                while stack and len(self._locations) < 200_000:
                    raw, loc = stack.pop()
                    if isinstance(raw, dict):
                        self._locations.setdefault(id(raw), loc)
                        for k, v in raw.items():
                            if isinstance(v, (dict, list)):
                                stack.append((v, f"{loc}/{escape(k)}"))
                    elif isinstance(raw, list):
                        for i, v in enumerate(raw):
                            if isinstance(v, (dict, list)):
                                stack.append((v, f"{loc}/{i}"))
        return self._locations.get(id(obj))

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
            vcls = cls if reference else spec_class(cls, self.label == "consumer")
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
        try:
            errors = self.validator(node.cls).descend(instance, node.raw, resolver=node.resolver)
            return next(errors, None) is None
        except ValidationUnavailable:
            raise
        except (RecursionError, OverflowError, ValueError, ZeroDivisionError, re.error) as exc:
            msg = f"reference validator failed: {type(exc).__name__}"
            raise ValidationUnavailable(msg) from None
        except referencing.exceptions.Unresolvable as exc:
            raise RefError(f"unresolvable $ref {exc.ref!r} in {self.label} schema") from None
        except jsonschema.exceptions._WrappedReferencingError as exc:
            raise RefError(f"unresolvable $ref in {self.label} schema: {exc}") from None

    def errors(self, instance: JSON, *, reference: bool = True) -> list[Any]:
        """The validator's errors for `instance` under the whole document."""
        node = self.root
        if node.raw is True:
            return []
        try:
            v = self.validator(node.cls, reference=reference)
            return list(v.descend(instance, node.raw, resolver=node.resolver))
        except ValidationUnavailable:
            raise
        except (RecursionError, OverflowError, ValueError, ZeroDivisionError, re.error) as exc:
            msg = f"reference validator failed: {type(exc).__name__}"
            raise ValidationUnavailable(msg) from None
        except (
            referencing.exceptions.Unresolvable,
            jsonschema.exceptions._WrappedReferencingError,
        ) as exc:
            raise RefError(f"unresolvable $ref in {self.label} schema: {exc}") from None


def _spec_multiple_of(validator: Any, d: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "number"):
        return
    if not multiple_of(instance, d):
        yield jsonschema.exceptions.ValidationError(f"{instance!r} is not a multiple of {d}")


def _spec_pattern(validator: Any, p: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not search(p, instance):
        yield jsonschema.exceptions.ValidationError(f"{instance!r} does not match {p!r}")


def _spec_pattern_properties(validator: Any, pp: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for p, sub in pp.items():
        for k, v in instance.items():
            if search(p, k):
                yield from validator.descend(v, sub, path=k, schema_path=p)


def _spec_additional(validator: Any, ap: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    props = schema.get("properties", {})
    pats = list(schema.get("patternProperties", {}))
    extras = [k for k in instance if k not in props and not any(search(p, k) for p in pats)]
    if validator.is_type(ap, "object"):
        for k in extras:
            yield from validator.descend(instance[k], ap, path=k)
    elif not ap and extras:
        yield jsonschema.exceptions.ValidationError(
            f"Additional properties are not allowed ({', '.join(map(repr, sorted(extras)))})"
        )


_SPEC: dict[tuple[type[Any], bool], type[Any]] = {}


#: Formats whose python-jsonschema checker implements the format's definition (the others,
#: e.g. "email" = contains "@", or "regex" = Python's re, are looser than the spec).
FAITHFUL_FORMATS = frozenset(
    (
        "date",
        "date-time",
        "duration",
        "ipv4",
        "ipv6",
        "uuid",
        "hostname",
        "idn-hostname",
        "uri",
        "uri-reference",
        "uri-template",
        "json-pointer",
        "relative-json-pointer",
    )
)


def faithful_format(cls: type[Any], fmt: Any) -> bool:
    """Whether `fmt` is asserted faithfully by the reference validator's format checker."""
    return fmt in FAITHFUL_FORMATS and fmt in cls.FORMAT_CHECKER.checkers


def _strict_format(original: Any) -> Any:
    """`format` that refuses to guess: a format without a faithful checker is unavailable."""

    def fmt_keyword(validator: Any, fmt: Any, instance: Any, schema: Any) -> Iterator[Any]:
        checker = validator.format_checker
        if checker is not None and not (fmt in FAITHFUL_FORMATS and fmt in checker.checkers):
            raise ValidationUnavailable(f"format {fmt!r} cannot be asserted faithfully")
        yield from original(validator, fmt, instance, schema)

    return fmt_keyword


def spec_class(cls: type[Any], strict_format: bool = False) -> type[Any]:
    """`cls` with the specification's `multipleOf` and ECMA-262 patterns.

    `strict_format`: a `format` the format checker cannot check makes validation unavailable
    (used for the consumer, where assuming "valid" would be unsound).
    """
    got = _SPEC.get((cls, strict_format))
    if got is not None:
        return got
    overrides: dict[str, Any] = {"multipleOf": _spec_multiple_of}
    if "pattern" in cls.VALIDATORS:
        overrides["pattern"] = _spec_pattern
    if "patternProperties" in cls.VALIDATORS:
        overrides["patternProperties"] = _spec_pattern_properties
    if "additionalProperties" in cls.VALIDATORS:
        overrides["additionalProperties"] = _spec_additional
    if strict_format and "format" in cls.VALIDATORS:
        overrides["format"] = _strict_format(cls.VALIDATORS["format"])
    new = jsonschema.validators.extend(cls, overrides)

    init_fields = [(f.alias, f.name) for f in attrs.fields(new) if f.init]

    def evolve(self: Any, **changes: Any) -> Any:
        schema = changes.setdefault("schema", self.schema)
        target = validator_for(schema, default=cls)
        new_cls = spec_class(target, strict_format) if target in DIALECT_CLASSES else type(self)
        for alias, name in init_fields:
            if alias not in changes:
                changes[alias] = getattr(self, name)
        return new_cls(**changes)

    new.evolve = evolve
    _SPEC[(cls, strict_format)] = new
    result: type[Any] = new
    return result


DIALECT_CLASSES = frozenset(
    (
        jsonschema.Draft4Validator,
        jsonschema.Draft6Validator,
        jsonschema.Draft7Validator,
        jsonschema.Draft201909Validator,
        jsonschema.Draft202012Validator,
    )
)


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


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


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


_CHECKED: dict[str, None] = {}

#: markers of identifiers that only a crawled registry knows (draft-04's "id" included)
_CRAWL_MARKERS = ('"$id"', '"$anchor"', '"$dynamicAnchor"', '"$recursiveAnchor"', '"id":')


def _scan(cls: type[Any], schema: JSON, label: str, uri: str) -> wellformed.Scan:
    found = wellformed.scan(schema, dialect_name(cls), _vocabulary(cls), uri, MAX_JSON_DEPTH)
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

    __slots__ = ("_cache", "_kw", "cls", "key", "loc", "ptr", "raw", "resolver", "side")

    def __init__(
        self, raw: JSON, side: Side, cls: type[Any], resolver: Any, loc: str, ptr: str
    ) -> None:
        self.raw = raw
        self.side = side
        self.cls = cls
        self.resolver = resolver
        self.loc = loc
        self.ptr = ptr
        scope: Any = None
        if side.dynamic:
            scope = (
                getattr(resolver, "_base_uri", None),
                tuple(getattr(resolver, "_previous", ())),
            )
        self.key = (id(raw), cls, id(side), scope)
        self._kw: dict[str, Any] | None = None
        self._cache: dict[Any, Any] = {}

    def __repr__(self) -> str:
        return f"Node({self.loc})"

    @property
    def dialect(self) -> str:
        """The dialect this node is interpreted under."""
        return dialect_name(self.cls)

    def child(self, raw: JSON, *path: str | int) -> Node:
        """The subschema `raw` found under this node at `path` (relative JSON pointer)."""
        ckey = (id(raw), path)
        got = self._cache.get(ckey)
        if got is not None:
            return got  # type: ignore[no-any-return]
        got = self._child(raw, *path)
        self._cache[ckey] = got
        return got

    def _child(self, raw: JSON, *path: str | int) -> Node:
        cls = self.cls
        resolver = self.resolver
        if isinstance(raw, dict):
            if "$schema" in raw:
                cls = validator_for(raw, default=cls)
            if "$id" in raw or "id" in raw:  # only an id can move the base URI
                resolver = resolver.in_subresource(_specification(self.cls).create_resource(raw))
        suffix = "".join("/" + escape(str(p)) for p in path)
        return Node(raw, self.side, cls, resolver, self.loc + suffix, self.ptr + suffix)

    def follow(self, keyword: str, ref: str) -> Node:
        """The target of this node's `$ref` / `$dynamicRef`."""
        ckey = ("$follow", keyword, ref)
        got = self._cache.get(ckey)
        if got is None:
            got = self._cache[ckey] = self._follow(keyword, ref)
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
    def kw(self) -> dict[str, Any]:
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


_VOCABULARIES: dict[Any, frozenset[str]] = {}


def _vocabulary(cls: type[Any]) -> frozenset[str]:
    got = _VOCABULARIES.get(cls)
    if got is None:
        got = _VOCABULARIES[cls] = frozenset(cls.VALIDATORS)
    return got


def normalise(raw: JSON, cls: type[Any], format_assertion: bool) -> dict[str, Any]:
    """The asserting keywords of one schema object under its dialect, as 2020-12."""
    if not isinstance(raw, dict):
        return {}
    dialect = dialect_name(cls)
    vocab = _vocabulary(cls)
    if dialect in _LEGACY_REF and "$ref" in raw:
        return {"$ref": raw["$ref"]}
    out: dict[str, Any] = {}
    for k, v in raw.items():
        if k in vocab:
            out[k] = v
    if "if" in out:
        for k in ("then", "else"):
            if k in raw:
                out[k] = raw[k]
    if "contains" in out and dialect in ("draft2019-09", "draft2020-12"):
        for k in ("minContains", "maxContains"):
            if k in raw:
                out[k] = raw[k]
    if "format" in out and not format_assertion:
        del out["format"]
    if dialect == "draft4":
        for bound, excl in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            flag = raw.get(excl, False)
            if bound in out and flag is True:
                out[excl] = out.pop(bound)
    if dialect != "draft2020-12":
        items = out.pop("items", None)
        additional = out.pop("additionalItems", None)
        if isinstance(items, list):
            out["prefixItems"] = items
            if additional is not None:
                out["items"] = additional
        elif items is not None:
            out["items"] = items
        deps = out.pop("dependencies", None)
        if isinstance(deps, dict):
            for name, dep in deps.items():
                if isinstance(dep, list):
                    out.setdefault("dependentRequired", {})[name] = dep
                else:
                    out.setdefault("dependentSchemas", {})[name] = dep
    return out
