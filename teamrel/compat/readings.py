"""The reference validator's readings of a schema, as python-jsonschema classes.

Owns `reference_class` (python-jsonschema as anyone calls it, with `$ref` lookups and, within
one validation, subschema results memoised), `spec_class` (the specification's reading where
python-jsonschema departs from it: exact decimal `multipleOf`, ECMA-262 `pattern` /
`patternProperties` / `additionalProperties`, strict formats) and `dual_class` (both readings
in one pass, noting where they could disagree), and which `format` checkers are faithful.
Decides nothing about containment: `schema.Side` validates witnesses with these classes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import attrs
import jsonschema
import jsonschema.exceptions
import jsonschema.validators
import referencing
import referencing.exceptions
import referencing.jsonschema
from jsonschema.validators import validator_for

from teamrel.compat.evaluate import (
    ValidationUnavailable,
    enum_contains,
    multiple_of,
    python_search,
    search,
)

#: Keywords that only annotate: never asserted by any dialect.

DIALECT_NAMES: dict[str, str] = {
    "Draft3Validator": "draft3",
    "Draft4Validator": "draft4",
    "Draft6Validator": "draft6",
    "Draft7Validator": "draft7",
    "Draft201909Validator": "draft2019-09",
    "Draft202012Validator": "draft2020-12",
}


def dialect_name(cls: type[Any]) -> str:
    """ "draft7", "draft2020-12"... for a python-jsonschema validator class."""
    return DIALECT_NAMES.get(cls.__name__, "draft2020-12")


DIALECT_CLASSES = frozenset(
    (
        jsonschema.Draft4Validator,
        jsonschema.Draft6Validator,
        jsonschema.Draft7Validator,
        jsonschema.Draft201909Validator,
        jsonschema.Draft202012Validator,
    )
)


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


_ALL_DIALECTS = frozenset(DIALECT_NAMES.values())
_FROM_DRAFT6 = _ALL_DIALECTS - {"draft3", "draft4"}
_FROM_DRAFT7 = _FROM_DRAFT6 - {"draft6"}

#: Formats python-jsonschema checks only when an optional package is installed: the package,
#: and the dialects that define the format (elsewhere it is not checked at all).
_CHECKER_PACKAGES: dict[str, tuple[str, frozenset[str]]] = {
    "date-time": ("rfc3339-validator", _ALL_DIALECTS),
    "time": ("rfc3339-validator", _FROM_DRAFT7),
    "hostname": ("fqdn", _ALL_DIALECTS),
    "idn-hostname": ("idna", _FROM_DRAFT7),
    "uri": ("rfc3986-validator", _ALL_DIALECTS),
    "uri-reference": ("rfc3986-validator", _FROM_DRAFT6),
    "iri": ("rfc3987-syntax", _FROM_DRAFT7),
    "iri-reference": ("rfc3987-syntax", _FROM_DRAFT7),
    "json-pointer": ("jsonpointer", _FROM_DRAFT6),
    "relative-json-pointer": ("jsonpointer", _FROM_DRAFT7),
    "uri-template": ("uri-template", _FROM_DRAFT6),
    "duration": ("isoduration", frozenset({"draft2019-09", "draft2020-12"})),
}

#: How python-jsonschema's checker departs from the format's definition, where it is known.
_LOOSE_CHECKERS = {
    "email": "is looser than the specification (it only checks for an '@')",
    "idn-email": "is looser than the specification (it only checks for an '@')",
    "regex": "reads Python's regular expressions, not ECMA-262's as the specification does",
}


def format_meaning(cls: type[Any], fmt: str) -> tuple[Any, bool]:
    """What `fmt` asserts in dialect `cls`: python-jsonschema's checker for it (None: not
    checked) and whether the dialect defines it. Two `format`s with the same name and
    meaning accept the same strings, whether or not that checker is exact."""
    checker = cls.FORMAT_CHECKER.checkers.get(fmt)
    return checker, checker is not None or dialect_name(cls) in _CHECKER_PACKAGES.get(
        fmt, ("", frozenset())
    )[1]


def unfaithful_format_reason(cls: type[Any], fmt: Any) -> str:
    """Why `fmt` (not `faithful_format`) cannot be decided exactly: no checker installed,
    a checker looser than the specification, or a format the dialect does not define."""
    dialect = dialect_name(cls)
    if fmt in cls.FORMAT_CHECKER.checkers:
        how = _LOOSE_CHECKERS.get(fmt, "does not implement the specification's definition exactly")
        return (
            f"format {fmt!r}: python-jsonschema's checker for it {how}, "
            "so the engine cannot decide this pair exactly"
        )
    package, dialects = _CHECKER_PACKAGES.get(fmt, ("", frozenset()))
    if dialect in dialects:
        # rfc3987-syntax is left out of the extra on purpose (see pyproject.toml)
        extra = (
            ", which teamrel[formats] does not install"
            if package == "rfc3987-syntax"
            else ": install teamrel[formats]"
        )
        return (
            f"format {fmt!r}: no checker installed (python-jsonschema checks it only with "
            f"the package {package}{extra}), so the engine cannot decide this pair exactly"
        )
    return (
        f"format {fmt!r} is not defined in {dialect}: python-jsonschema does not check it, "
        "so the engine cannot decide this pair exactly"
    )


def _strict_format(original: Any) -> Any:
    """`format` that refuses to guess: a format without a faithful checker is unavailable."""

    def fmt_keyword(validator: Any, fmt: Any, instance: Any, schema: Any) -> Iterator[Any]:
        checker = validator.format_checker
        if checker is not None and not (fmt in FAITHFUL_FORMATS and fmt in checker.checkers):
            raise ValidationUnavailable(f"format {fmt!r} cannot be asserted faithfully")
        yield from original(validator, fmt, instance, schema)

    return fmt_keyword


def _indexed_enum(original: Any) -> Any:
    """python-jsonschema's `enum`, a large list's accepted value found by a hashed lookup
    (`enum_contains`) instead of a comparison with every value; a rejected value goes to the
    original keyword, for its very error."""

    def enum_keyword(validator: Any, enums: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if isinstance(enums, list) and enum_contains(enums, instance):
            return
        yield from original(validator, enums, instance, schema)

    return enum_keyword


def spec_class(cls: type[Any], strict_format: bool = False) -> type[Any]:
    """`cls` with the specification's `multipleOf` and ECMA-262 patterns.

    `strict_format`: a `format` the format checker cannot check makes validation unavailable
    (used for the consumer, where assuming "valid" would be unsound).
    """
    got = _SPEC.get((cls, strict_format))
    if got is not None:
        return got
    overrides: dict[str, Any] = {"multipleOf": _spec_multiple_of}
    if "enum" in cls.VALIDATORS:
        overrides["enum"] = _indexed_enum(cls.VALIDATORS["enum"])
    if "divisibleBy" in cls.VALIDATORS:
        overrides["divisibleBy"] = _spec_multiple_of
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
    _install_memos(new, cls)
    _SPEC[(cls, strict_format)] = new
    result: type[Any] = new
    return result


#: set while a side validates: its `$ref` lookups by (base URI, reference), or None
REF_CACHE: ContextVar[dict[Any, Any] | None] = ContextVar("teamrel_compat_refs", default=None)


def _cached_reference(original: Any) -> Any:
    """python-jsonschema's `_validate_reference`, with the lookup memoised per side.

    Without a dynamic scope (the side has no `$dynamicRef`/`$recursiveRef`/anchors of
    them: `REF_CACHE` is None otherwise), where a reference leads depends only on the
    base URI it is looked up from: the same lookup, done once.
    """

    def _validate_reference(self: Any, ref: str, instance: Any) -> Any:
        cache = REF_CACHE.get()
        if cache is None or self._ref_resolver is not None:
            return original(self, ref, instance)
        resolver = self._resolver
        key = (resolver._base_uri, ref)
        resolved = cache.get(key)
        if resolved is None:
            try:
                resolved = resolver.lookup(ref)
            except referencing.exceptions.Unresolvable as err:
                raise jsonschema.exceptions._WrappedReferencingError(err) from err
            cache[key] = resolved
        return self.descend(instance, resolved.contents, resolver=resolved.resolver)

    return _validate_reference


#: set while a side validates one instance (static scope only): the (schema, instance)
#: pairs python-jsonschema already found valid, by identity
VALID_MEMO: ContextVar[dict[Any, Any] | None] = ContextVar("teamrel_compat_valid", default=None)


def _memo_descend(original: Any) -> Any:
    """python-jsonschema's `descend`, remembering within one validation which subschema
    already accepted which part of the instance.

    A witness repeats the same value under the same subschema many times (a contract's
    110 required properties reach a handful of `$defs`): the reference validator still
    decides every distinct (subschema, value, base URI) once, with its own keywords; the
    repeats are answered from that decision. Only acceptances are remembered (errors carry
    paths, which differ), and only without a dynamic scope, where the answer depends on
    nothing else. Keys are identities, kept alive by the memo, so `true` is never `1`.
    """

    def descend(
        self: Any,
        instance: Any,
        schema: Any,
        path: Any = None,
        schema_path: Any = None,
        resolver: Any = None,
    ) -> Any:
        if schema is False:
            return _located(
                original(self, instance, schema, path, schema_path, resolver), path, schema_path
            )
        memo = VALID_MEMO.get()
        if memo is None or not isinstance(schema, dict):
            return original(self, instance, schema, path, schema_path, resolver)
        base = (resolver if resolver is not None else self._resolver)._base_uri
        key = (id(schema), id(instance), type(self), base)
        kept = memo.get(key)
        if kept is not None and kept[0] is schema and kept[1] is instance:
            return iter(())
        return _recording(
            memo,
            key,
            (schema, instance),
            original(self, instance, schema, path, schema_path, resolver),
        )

    return descend


def _located(errors: Iterator[Any], path: Any, schema_path: Any) -> Iterator[Any]:
    """A `false` subschema's error with the place it was reached at: python-jsonschema's
    `descend` returns it without adding `path`/`schema_path` as it does for every other
    error (so `{"properties": {"a": false}}` would report `{"a": 1}` at the top level)."""
    for error in errors:
        if path is not None:
            error.path.appendleft(path)
        if schema_path is not None:
            error.schema_path.appendleft(schema_path)
        yield error


def _recording(memo: dict[Any, Any], key: Any, kept: Any, errors: Iterator[Any]) -> Iterator[Any]:
    failed = False
    for error in errors:
        failed = True
        yield error
    if not failed:
        memo[key] = kept


def _install_memos(new: type[Any], cls: type[Any]) -> None:
    """Give a validator class derived from python-jsonschema's `cls` the per-side `$ref`
    lookups and the per-validation acceptance memo (every such class needs both)."""
    new._validate_reference = _cached_reference(cls._validate_reference)
    new.descend = _memo_descend(cls.descend)


_REFERENCE: dict[type[Any], type[Any]] = {}


def reference_class(cls: type[Any]) -> type[Any]:
    """python-jsonschema's `cls` itself (same keywords, same errors), its `$ref` lookups
    memoised per side (`_cached_reference`)."""
    got = _REFERENCE.get(cls)
    if got is not None:
        return got
    if cls not in DIALECT_CLASSES:
        return cls
    overrides = {"enum": _indexed_enum(cls.VALIDATORS["enum"])} if "enum" in cls.VALIDATORS else {}
    new = jsonschema.validators.extend(cls, overrides)
    init_fields = [(f.alias, f.name) for f in attrs.fields(new) if f.init]

    def evolve(self: Any, **changes: Any) -> Any:
        # as python-jsonschema: the dialect of a subschema with its own $schema
        schema = changes.setdefault("schema", self.schema)
        target = validator_for(schema, default=cls)
        new_cls = type(self) if target is cls else reference_class(target)
        for alias, name in init_fields:
            if alias not in changes:
                changes[alias] = getattr(self, name)
        return new_cls(**changes)

    new.evolve = evolve
    _install_memos(new, cls)
    _REFERENCE[cls] = new
    result: type[Any] = new
    return result


#: set while `Side.valid_in_both_readings` validates: the box records a disagreement
DISAGREE: ContextVar[list[bool] | None] = ContextVar("teamrel_compat_disagree", default=None)


def _disagree() -> None:
    box = DISAGREE.get()
    if box is not None:
        box[0] = True


def _dual_leaf(original: Any, spec: Any) -> Any:
    """python-jsonschema's keyword, noting when the specification's reading differs."""

    def keyword(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
        errors = list(original(validator, value, instance, schema))
        try:
            agree = bool(errors) == (
                next(spec(validator, value, instance, schema), None) is not None
            )
        except Exception:  # the specification's reading failed: let the full check decide
            agree = False
        if not agree:
            _disagree()
        yield from errors

    return keyword


def _names_agree(instance: Any, schema: Any) -> bool:
    """Whether both readings match the same property names to the same patterns."""
    pats = schema.get("patternProperties", {}) if isinstance(schema, dict) else {}
    if not pats:
        return True
    try:
        for p in pats:
            for k in instance:
                if python_search(p, k) != search(p, k):
                    return False
        props = schema.get("properties", {})
        spec_extras = {
            k for k in instance if k not in props and not any(search(p, k) for p in pats)
        }
        # python-jsonschema's own reading of `additionalProperties` (its patterns joined)
        from jsonschema._utils import find_additional_properties

        return set(find_additional_properties(instance, schema)) == spec_extras
    except Exception:
        return False


def _dual_names(original: Any) -> Any:
    """python-jsonschema's keyword, noting when the readings match names differently."""

    def keyword(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if validator.is_type(instance, "object") and not _names_agree(instance, schema):
            _disagree()
        yield from original(validator, value, instance, schema)

    return keyword


def _dual_format(original: Any) -> Any:
    """python-jsonschema's `format`, noting where the consumer's strict reading (a format
    without a faithful checker is unavailable) would not answer."""

    def keyword(validator: Any, fmt: Any, instance: Any, schema: Any) -> Iterator[Any]:
        checker = validator.format_checker
        if checker is not None and not (fmt in FAITHFUL_FORMATS and fmt in checker.checkers):
            _disagree()
        yield from original(validator, fmt, instance, schema)

    return keyword


_DUAL: dict[tuple[type[Any], bool], type[Any] | None] = {}


def dual_class(cls: type[Any], strict_format: bool = False) -> type[Any] | None:
    """`cls` (python-jsonschema: same keywords, same errors) noting every keyword where
    the specification's reading (`spec_class(cls, strict_format)`) could differ; None if
    not supported."""
    if (cls, strict_format) in _DUAL:
        return _DUAL[(cls, strict_format)]
    if cls not in DIALECT_CLASSES or "multipleOf" not in cls.VALIDATORS:
        _DUAL[(cls, strict_format)] = None
        return None
    overrides: dict[str, Any] = {
        "multipleOf": _dual_leaf(cls.VALIDATORS["multipleOf"], _spec_multiple_of)
    }
    if "enum" in cls.VALIDATORS:
        overrides["enum"] = _indexed_enum(cls.VALIDATORS["enum"])
    if "pattern" in cls.VALIDATORS:
        overrides["pattern"] = _dual_leaf(cls.VALIDATORS["pattern"], _spec_pattern)
    for name in ("patternProperties", "additionalProperties"):
        if name in cls.VALIDATORS:
            overrides[name] = _dual_names(cls.VALIDATORS[name])
    if strict_format and "format" in cls.VALIDATORS:
        overrides["format"] = _dual_format(cls.VALIDATORS["format"])
    new = jsonschema.validators.extend(cls, overrides)
    init_fields = [(f.alias, f.name) for f in attrs.fields(new) if f.init]

    def evolve(self: Any, **changes: Any) -> Any:
        schema = changes.setdefault("schema", self.schema)
        target = validator_for(schema, default=cls)
        new_cls = dual_class(target, strict_format) if target is not cls else type(self)
        if new_cls is None:  # a dialect without a dual: the full check decides
            _disagree()
            new_cls = target
        for alias, name in init_fields:
            if alias not in changes:
                changes[alias] = getattr(self, name)
        return new_cls(**changes)

    new.evolve = evolve
    _install_memos(new, cls)
    _DUAL[(cls, strict_format)] = new
    result: type[Any] = new
    return result
