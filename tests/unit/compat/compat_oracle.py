"""The suite's own reference oracle: python-jsonschema, made faithful to the JSON Schema spec.

Owns the independent judgement every compat test compares the engine with. It is python-jsonschema
(the issue's reference validator) with the two places where plain python-jsonschema departs from
the specification repaired, without touching the engine's code or any global state:

- `pattern` / `patternProperties` are ECMA-262 regexes: each one is translated to an equivalent
  Python regex (`.` excludes line terminators, `$` is end of input, `\\d`/`\\w` are ASCII, `\\s`
  is ECMA white space) in a private copy of the schema;
- `multipleOf` uses exact decimal arithmetic on the numbers' JSON text (0.3 IS a multiple of 0.1,
  which plain python-jsonschema denies because of binary floats).

A witness the engine reports must satisfy BOTH the plain reference validator (what the issue
names) and this oracle (what the spec means): `witness_problems` checks both.
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Generator, Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import jsonschema
import jsonschema.validators
import referencing
import referencing.jsonschema
from jsonschema.exceptions import ValidationError

from teamrel.models import SchemaDoc

JSON = Any


class OracleUnsupported(Exception):
    """The oracle cannot judge this schema faithfully (e.g. a `\\p{..}` regex class)."""


# ----------------------------------------------------------------------------- ECMA-262 regexes

#: ECMA-262 WhiteSpace and LineTerminator code points (what `\s` matches).
_ECMA_WS = (
    "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
)
_CLASS_ESCAPES = {"d": "0-9", "w": "A-Za-z0-9_", "s": _ECMA_WS}
_HEX = "0123456789abcdefABCDEF"


def ecma_to_python(pattern: str) -> str:
    """A Python `re` pattern with the same search semantics as the ECMA-262 `pattern` (u flag).

    Raises OracleUnsupported for constructs it cannot translate exactly.
    """
    out: list[str] = ["(?a)"]  # \b and \B: ASCII word characters, as in ECMA-262
    i, n = 0, len(pattern)
    in_class = False
    class_start = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise OracleUnsupported(f"trailing backslash in {pattern!r}")
            e = pattern[i + 1]
            i += 2
            if e in "dws":
                out.append(_CLASS_ESCAPES[e] if in_class else f"[{_CLASS_ESCAPES[e]}]")
            elif e in "DWS":
                if in_class:
                    raise OracleUnsupported(f"negated class escape inside a class in {pattern!r}")
                out.append(f"[^{_CLASS_ESCAPES[e.lower()]}]")
            elif e == "b":
                out.append("\\x08" if in_class else "\\b")
            elif e == "B":
                out.append("\\B")
            elif e == "c" and i < n and pattern[i].isascii() and pattern[i].isalpha():
                out.append(f"\\x{ord(pattern[i]) % 32:02x}")
                i += 1
            elif e == "u" and i < n and pattern[i] == "{":
                end = pattern.index("}", i)
                out.append(f"\\U{int(pattern[i + 1 : end], 16):08x}")
                i = end + 1
            elif e == "u":
                digits = pattern[i : i + 4]
                if len(digits) != 4 or any(d not in _HEX for d in digits):
                    raise OracleUnsupported(f"bad \\u escape in {pattern!r}")
                out.append(f"\\u{digits}")
                i += 4
            elif e == "x":
                digits = pattern[i : i + 2]
                if len(digits) != 2 or any(d not in _HEX for d in digits):
                    raise OracleUnsupported(f"bad \\x escape in {pattern!r}")
                out.append(f"\\x{digits}")
                i += 2
            elif e in "pP":
                raise OracleUnsupported(f"Unicode property escape in {pattern!r}")
            elif e == "k" and i < n and pattern[i] == "<":
                end = pattern.index(">", i)
                out.append(f"(?P={pattern[i + 1 : end]})")
                i = end + 1
            elif e == "0":
                out.append("\\x00")
            elif e.isdigit():
                out.append("\\" + e)  # backreference: same meaning in both
            elif e in "fnrtv":
                out.append("\\" + e)
            elif e.isalnum():
                raise OracleUnsupported(f"unknown escape \\{e} in {pattern!r}")
            else:
                out.append("\\" + e)  # identity escape of a syntax character
            class_start = False
            continue
        if in_class:
            if c == "]" and not class_start:
                in_class = False
                out.append("]")
            elif c in "[&~|":
                out.append("\\" + c)  # literal in ECMA; Python would warn about set operations
            else:
                out.append(c)
            class_start = False
            i += 1
            continue
        if c == "[":
            if pattern.startswith("[]", i):
                out.append("(?!)")
                i += 2
                continue
            if pattern.startswith("[^]", i):
                out.append("[\\s\\S]")
                i += 3
                continue
            in_class = True
            class_start = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
            else:
                out.append("[")
                i += 1
            continue
        if c == ".":
            out.append("[^\\n\\r\\u2028\\u2029]")
        elif c == "$":
            out.append("\\Z")
        elif (
            c == "("
            and pattern.startswith("(?<", i)
            and not pattern.startswith(("(?<=", "(?<!"), i)
        ):
            out.append("(?P<")
            i += 3
            continue
        else:
            out.append(c)
        i += 1
    if in_class:
        raise OracleUnsupported(f"unterminated class in {pattern!r}")
    translated = "".join(out)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            re.compile(translated)
    except (re.error, FutureWarning) as err:
        raise OracleUnsupported(f"{pattern!r} has no exact Python equivalent: {err}") from err
    return translated


_NOT_SCHEMAS = frozenset({"const", "enum", "default", "examples", "$comment", "description"})
_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)


def ecma_schema(schema: JSON) -> JSON:
    """A copy of `schema` whose `pattern`s and `patternProperties` keys are Python regexes."""
    stack_guard = 0

    def walk(node: JSON, depth: int) -> JSON:
        nonlocal stack_guard
        if depth > 2000:
            raise OracleUnsupported("schema nesting too deep for the oracle")
        if isinstance(node, list):
            return [walk(x, depth + 1) for x in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, JSON] = {}
        for key, value in node.items():
            if key in _NOT_SCHEMAS:
                out[key] = value
            elif key == "pattern" and isinstance(value, str):
                out[key] = ecma_to_python(value)
            elif key in _SCHEMA_MAPS and isinstance(value, dict):
                mapped = {k: walk(v, depth + 1) for k, v in value.items()}
                if key == "patternProperties":
                    mapped = {ecma_to_python(k): v for k, v in mapped.items()}
                out[key] = mapped
            elif key == "dependencies" and isinstance(value, dict):
                out[key] = {
                    k: (v if isinstance(v, list) else walk(v, depth + 1)) for k, v in value.items()
                }
            else:
                out[key] = walk(value, depth + 1)
        return out

    return walk(schema, 0)


# ----------------------------------------------------------------------------- exact multipleOf


def _exact(x: int | float) -> Fraction:
    # A JSON number means its decimal text: 0.1 is one tenth, not the nearest binary float.
    return Fraction(x) if isinstance(x, int) else Fraction(Decimal(repr(x)))


def _multiple_of(validator: Any, d: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "number"):
        return
    if isinstance(instance, float) and not (instance == instance and abs(instance) != float("inf")):
        yield ValidationError(f"{instance!r} is not a finite number")
        return
    if (_exact(instance) / _exact(d)).denominator != 1:
        yield ValidationError(f"{instance!r} is not a multiple of {d}")


_PLAIN: tuple[type[Any], ...] = (
    jsonschema.Draft4Validator,
    jsonschema.Draft6Validator,
    jsonschema.Draft7Validator,
    jsonschema.Draft201909Validator,
    jsonschema.Draft202012Validator,
)
_EXACT: dict[type[Any], type[Any]] = {}


def _evolve(self: Any, **changes: Any) -> Any:
    schema = changes.setdefault("schema", self.schema)
    found = _validator_for(schema, None)
    cls = self.__class__ if found is None else _EXACT.get(found, self.__class__)
    for field in attrs.fields(cls):
        if field.init and field.alias not in changes:
            changes[field.alias] = getattr(self, field.name)
    return cls(**changes)


for _cls in _PLAIN:
    _new = jsonschema.validators.extend(_cls, {"multipleOf": _multiple_of})
    _new.evolve = _evolve  # keep exact multipleOf across `$schema` switches
    _EXACT[_cls] = _new


def _validator_for(schema: JSON, default: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jsonschema.validators.validator_for(schema, default=default)


# ----------------------------------------------------------------------------- validators


def _parts(schema: JSON | SchemaDoc) -> tuple[str, JSON, dict[str, JSON]]:
    if isinstance(schema, SchemaDoc):
        return schema.uri, schema.schema_, dict(schema.resources)
    return "", schema, {}


def _resource(contents: JSON) -> referencing.Resource[Any]:
    return referencing.Resource.from_contents(
        contents, default_specification=referencing.jsonschema.DRAFT202012
    )


def make_validator(
    schema: JSON | SchemaDoc, *, format_assertion: bool = False, faithful: bool = True
) -> Any:
    """A validator for `schema` (a JSON schema or a SchemaDoc with its resources).

    faithful=False is plain python-jsonschema (the issue's reference validator); True is the
    spec-faithful oracle (ECMA-262 regexes, exact decimal multipleOf).
    """
    uri, root, resources = _parts(schema)
    if faithful:
        root = ecma_schema(root)
        resources = {k: ecma_schema(v) for k, v in resources.items()}
    plain = _validator_for(root, jsonschema.Draft202012Validator)
    cls = _EXACT.get(plain, plain) if faithful else plain
    kwargs: dict[str, Any] = {}
    if format_assertion:
        kwargs["format_checker"] = cls.FORMAT_CHECKER
    if uri or resources:
        registry: referencing.Registry[Any] = referencing.Registry().with_resources(
            (k, _resource(v)) for k, v in resources.items()
        )
        dialect = root.get("$schema") if isinstance(root, dict) else None
        spec = referencing.jsonschema.DRAFT202012
        if isinstance(dialect, str):
            spec = referencing.jsonschema.specification_with(dialect, default=spec)
        root_resource = spec.create_resource(root)
        registry = registry.with_resource(uri, root_resource)
        kwargs["registry"] = registry
        kwargs["_resolver"] = registry.resolver(base_uri=uri)
    return cls(root, **kwargs)


def _deep(fn: Callable[[], bool]) -> bool:
    """Run a validation; on RecursionError retry on a thread with a big stack."""
    try:
        return fn()
    except RecursionError:
        pass
    result: list[bool] = []
    failure: list[BaseException] = []

    def target() -> None:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(200_000)
        try:
            result.append(fn())
        except BaseException as err:  # reported to the caller below
            failure.append(err)
        finally:
            sys.setrecursionlimit(old)

    old_size = threading.stack_size(512 * 1024 * 1024)
    try:
        t = threading.Thread(target=target)
        t.start()
        t.join()
    finally:
        threading.stack_size(old_size)
    if failure:
        raise OracleUnsupported(f"validation failed: {failure[0]!r}") from failure[0]
    return result[0]


def is_valid(
    schema: JSON | SchemaDoc,
    instance: JSON,
    *,
    format_assertion: bool = False,
    faithful: bool = True,
) -> bool:
    """Is `instance` valid under `schema`? (see make_validator for `faithful`)."""
    try:
        v = make_validator(schema, format_assertion=format_assertion, faithful=faithful)
        return _deep(lambda: bool(v.is_valid(instance)))
    except OracleUnsupported:
        raise
    except Exception as err:  # an unusable schema makes python-jsonschema raise anything
        raise OracleUnsupported(f"python-jsonschema cannot use this schema: {err!r}") from err


def witness_problems(
    producer: JSON | SchemaDoc,
    consumer: JSON | SchemaDoc,
    witness: JSON,
    *,
    format_assertion: bool = False,
) -> list[str]:
    """Why `witness` fails to prove producer ⊄ consumer (empty list: it proves it).

    Checked with plain python-jsonschema AND with the spec-faithful oracle; a judge that cannot
    evaluate the schema (OracleUnsupported) is reported as a problem for the plain validator
    (the engine must have verified its witness with it) and skipped for the faithful one.
    """
    problems: list[str] = []
    for faithful in (False, True):
        judge = "spec-faithful oracle" if faithful else "python-jsonschema"
        try:
            if not is_valid(
                producer, witness, format_assertion=format_assertion, faithful=faithful
            ):
                problems.append(f"{judge}: witness is NOT valid under the producer")
            if is_valid(consumer, witness, format_assertion=format_assertion, faithful=faithful):
                problems.append(f"{judge}: witness IS valid under the consumer")
        except OracleUnsupported as err:
            if not faithful:
                problems.append(f"{judge} cannot judge the witness: {err}")
    return problems


# ----------------------------------------------------------------------------- hang guard


class Hang(Exception):
    """A call exceeded its wall-clock guard."""


@contextlib.contextmanager
def hang_guard(seconds: float) -> Generator[None, None, None]:
    """Raise `Hang` in the block after `seconds` of wall-clock time (main thread, POSIX).

    A guard far above the engine's own budget: it turns a hang into a failing test instead of a
    stuck CI run; it does not measure speed.
    """

    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no answer within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
