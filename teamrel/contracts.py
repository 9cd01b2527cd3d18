"""Contract files: reading JSON Schemas from the workspace into self-contained `SchemaDoc`s.

Owns
- the dialects teamrel understands (`DIALECTS`, selected by `$schema`, default 2020-12) and
  the meta-schema check of every schema against its own dialect;
- `$ref` policy: a `$ref` may point inside its file or, by relative path, to another file
  under the workspace. Remote (`http:`, `urn:`, ...), absolute, `..`-escaping and
  symlink-escaping references are refused (`RefError`): teamrel never touches the network
  and never reads outside its workspace. `$id` that would change a base URI is refused too,
  because a contract is identified by its workspace path.
- cycle policy: recursion through `$ref` is legal JSON Schema and loads (a tree type
  referring to itself under `properties`/`items`). What is refused is a cycle of *in-place*
  references, where evaluating a schema requires evaluating itself at the same instance
  location without descending into the instance (`a.json = {"$ref": "b.json"}`,
  `b.json = {"$ref": "a.json"}`, `{"allOf": [{"$ref": "#"}]}`): no validator can ever
  resolve it.
- the per-workspace cache (`SchemaLoader`): each file is read, parsed, meta-checked and
  scanned for references once, however many members share it.

A `SchemaDoc` for a file has `uri = "file:///<workspace-relative path>"` and `resources`
holding every *other* file reachable through `$ref`, keyed by URI; inline schemas (written
in teamrel.yaml) get `urn:teamrel:inline:<where>` and may only use local `#...` references.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema

from teamrel.canonical import JSON, JsonObject
from teamrel.errors import Diagnostic, InputError, RefError, SchemaError
from teamrel.models import SchemaDoc
from teamrel.yamlsrc import YamlDoc, YamlError, escape_token, parse_yaml, unescape_token

#: `$schema` URI -> dialect name. URIs are compared without a trailing `#` and with
#: http/https treated alike.
DIALECTS: dict[str, str] = {
    "http://json-schema.org/draft-04/schema#": "draft4",
    "http://json-schema.org/draft-06/schema#": "draft6",
    "http://json-schema.org/draft-07/schema#": "draft7",
    "https://json-schema.org/draft/2019-09/schema": "draft2019-09",
    "https://json-schema.org/draft/2020-12/schema": "draft2020-12",
}
DEFAULT_DIALECT = "draft2020-12"

#: Largest schema file read (bytes).
MAX_SCHEMA_BYTES = 5 * 1024 * 1024
#: Deepest schema nesting accepted (keeps every walk and the compat engine bounded).
MAX_SCHEMA_DEPTH = 128
#: Meta-schema violations reported per file (the rest are counted).
MAX_META_ERRORS = 10

_VALIDATORS: dict[str, type[Any]] = {
    "draft4": jsonschema.Draft4Validator,
    "draft6": jsonschema.Draft6Validator,
    "draft7": jsonschema.Draft7Validator,
    "draft2019-09": jsonschema.Draft201909Validator,
    "draft2020-12": jsonschema.Draft202012Validator,
}
_META_CHECKERS: dict[str, Any] = {}
_META_MEMO: dict[str, dict[str, list[tuple[str, str]]]] = {}


def _norm_uri(uri: str) -> str:
    uri = uri.rstrip("#")
    return "http" + uri[5:] if uri.startswith("https:") else uri


_DIALECT_BY_NORM = {_norm_uri(k): v for k, v in DIALECTS.items()}

# Keywords whose value is one schema / a list of schemas / a map of name -> schema.
_ONE = (
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "contentSchema",
    "items",
)
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
_MAP = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
# Applicators evaluated at the same instance location (for in-place cycle detection).
_IN_PLACE_ONE = ("not", "if", "then", "else")
_IN_PLACE_MANY = ("allOf", "anyOf", "oneOf")

Loc = tuple[str, str]  # (file key, JSON pointer)


def file_uri(rel: str) -> str:
    """The SchemaDoc URI of a workspace-relative file path."""
    return "file:///" + rel


def dialect_of(schema: JSON) -> str:
    """The dialect name selected by the schema's `$schema` (default 2020-12)."""
    if isinstance(schema, dict) and "$schema" in schema:
        uri = schema["$schema"]
        name = _DIALECT_BY_NORM.get(_norm_uri(uri)) if isinstance(uri, str) else None
        if name is None:
            raise SchemaError(
                f"unknown $schema {uri!r}: use draft-04, -06, -07, 2019-09 or 2020-12",
                pointer="/$schema",
            )
        return name
    return DEFAULT_DIALECT


def _checker(dialect: str) -> Any:
    checker = _META_CHECKERS.get(dialect)
    if checker is None:
        cls = _VALIDATORS[dialect]
        # No format checker: `pattern` regexes are ECMA-262, checked by the compat engine.
        checker = _META_CHECKERS[dialect] = cls(cls.META_SCHEMA)
    return checker


def _shallow(
    node: dict[str, Any], ptr: str, bool_schemas: bool
) -> tuple[dict[str, Any], list[tuple[Any, str]]]:
    """`node` with every subschema replaced by `{}`, and the (subschema, pointer) list.

    Booleans count as subschemas only where the dialect has boolean schemas (not draft-04,
    where `additionalProperties: false` is a keyword value checked with its parent).
    """
    kinds: tuple[type, ...] = (dict, bool) if bool_schemas else (dict,)
    shallow: dict[str, Any] = {}
    children: list[tuple[Any, str]] = []
    for kw, val in node.items():
        if (kw in _MAP or kw == "dependencies") and isinstance(val, dict):
            shallow[kw] = _blank_map(val, f"{ptr}/{escape_token(kw)}", kinds, children)
        elif kw in _MANY and isinstance(val, list):
            shallow[kw] = _blank_list(val, f"{ptr}/{escape_token(kw)}", kinds, children)
        elif kw in _ONE and isinstance(val, kinds):
            shallow[kw] = {}
            children.append((val, f"{ptr}/{escape_token(kw)}"))
        else:
            shallow[kw] = val
    return shallow, children


def _blank_map(
    val: dict[str, Any], ptr: str, kinds: tuple[type, ...], children: list[tuple[Any, str]]
) -> dict[str, Any]:
    """A map keyword's value with its subschemas blanked (appended to `children`)."""
    if all(isinstance(v, kinds) for v in val.values()):
        # meta-schemas constrain a map of subschemas only through each value
        children.extend((v, f"{ptr}/{escape_token(n)}") for n, v in val.items())
        return {}
    sub: dict[str, Any] = {}
    for name, v in val.items():
        if isinstance(v, kinds):
            sub[name] = {}
            children.append((v, f"{ptr}/{escape_token(name)}"))
        else:
            sub[name] = v
    return sub


def _blank_list(
    val: list[Any], ptr: str, kinds: tuple[type, ...], children: list[tuple[Any, str]]
) -> list[Any]:
    """A list keyword's value with its subschemas blanked (appended to `children`)."""
    if val and all(isinstance(v, kinds) for v in val):
        children.extend((v, f"{ptr}/{i}") for i, v in enumerate(val))
        return [{}]  # keeps minItems: 1 meaningful
    items: list[Any] = []
    for i, v in enumerate(val):
        if isinstance(v, kinds):
            items.append({})
            children.append((v, f"{ptr}/{i}"))
        else:
            items.append(v)
    return items


def meta_errors(schema: JSON, dialect: str) -> list[tuple[str, str]]:
    """(JSON pointer, message) of every way `schema` violates its dialect's meta-schema.

    A meta-schema checks a schema object keyword by keyword and each subschema with itself,
    so the check is done node by node: every schema object with its subschemas blanked to
    `{}` (each checked on its own), memoised on its content. Shared shapes (the same `$ref`
    in a thousand files) are checked once, which keeps validation of large teams fast.
    """
    checker = _checker(dialect)
    memo = _META_MEMO.setdefault(dialect, {})
    if len(memo) > 200_000:
        memo.clear()
    out: list[tuple[str, str]] = []
    stack: list[tuple[Any, str, int]] = [(schema, "", 0)]
    while stack:
        node, ptr, depth = stack.pop()
        if depth > MAX_SCHEMA_DEPTH:
            raise RecursionError("schema nested too deeply")
        if isinstance(node, dict):
            shallow, children = _shallow(node, ptr, dialect != "draft4")
            stack.extend((c, p, depth + 1) for c, p in children)
        else:
            shallow = node
        try:
            key = json.dumps(shallow, sort_keys=True)
        except (TypeError, ValueError):
            key = repr(shallow)
        errs = memo.get(key)
        if errs is None:
            errs = memo[key] = [
                ("".join("/" + escape_token(str(p)) for p in err.absolute_path), err.message)
                for err in checker.iter_errors(shallow)
            ]
        out.extend((ptr + p, msg) for p, msg in errs)
    out.sort()
    return out


def resolve_path(
    root: Path, raw: str, base_dir: str = "", what: str = "path", *, root_real: Path | None = None
) -> str:
    """Normalise a relative path (from `base_dir`, workspace-relative) inside `root`.

    Returns the workspace-relative POSIX path. Raises `InputError` for a remote URL, an
    absolute path, a path escaping the workspace (`..` or a symlink pointing outside) or a
    missing file.
    """
    parts = urlsplit(raw)
    if (parts.scheme and len(parts.scheme) > 1) or parts.netloc:
        raise InputError(f"remote {what} {raw!r} refused: teamrel never reads the network")
    if raw.startswith(("/", "\\")) or (len(raw) > 1 and raw[1] == ":"):
        raise InputError(f"absolute {what} {raw!r} refused: use a path relative to the workspace")
    if "\x00" in raw:
        raise InputError(f"{what} {raw!r} contains a NUL byte")
    rel = posixpath.normpath(posixpath.join(base_dir, raw.replace("\\", "/")))
    if rel == ".." or rel.startswith("../"):
        raise InputError(f"{what} {raw!r} escapes the workspace")
    full = root / rel
    try:
        real = full.resolve()
        real.relative_to(root_real or root.resolve())
    except ValueError:
        raise InputError(f"{what} {raw!r} resolves outside the workspace (symlink?)") from None
    except OSError as err:
        raise InputError(f"{what} {raw!r}: {err.strerror or err}") from None
    if real.is_dir():
        raise InputError(f"{what} {raw!r} is a directory, not a file ({rel})")
    if not real.is_file():
        if real.exists():  # a FIFO or a device: reading it could block or never end
            raise InputError(f"{what} {raw!r} is not a regular file ({rel})")
        raise InputError(f"{what} {raw!r}: no such file ({rel})")
    return rel


def missing_file(message: str) -> bool:
    """Whether a `resolve_path` error means "no file there" (rather than "refused")."""
    return any(
        m in message for m in ("no such file", "is a directory, not a file", "not a regular file")
    )


def reject_constant(name: str) -> Any:
    """`json.loads` hook: NaN and Infinity are not JSON values."""
    raise ValueError(f"{name} is not a JSON value")


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> JsonObject:
    """`json.loads` hook: an object naming a key twice is refused, not silently merged."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


@dataclass
class _Ref:
    at: str  # pointer of the schema holding the $ref
    target: str | None  # file key of the target (None: unresolvable, already reported)
    fragment: str


@dataclass
class _Analysis:
    """What one schema document (file or inline) contains, independent of other files."""

    key: str  # file rel path, or the inline label
    file: str  # file named in diagnostics
    base_pointer: str  # prefix for diagnostics pointers (inline schemas in teamrel.yaml)
    data: JSON = None
    problems: list[Diagnostic] = field(default_factory=list)
    refs: list[_Ref] = field(default_factory=list)
    anchors: dict[str, str] = field(default_factory=dict)
    edges: dict[str, list[tuple[str | None, str]]] = field(default_factory=dict)
    deps: list[str] = field(default_factory=list)

    def problem(self, code: str, ptr: str, message: str) -> None:
        self.problems.append(
            Diagnostic(code=code, message=message, file=self.file, pointer=self.base_pointer + ptr)
        )


def _pointer_get(doc: JSON, ptr: str) -> tuple[bool, JSON]:
    cur = doc
    if not ptr:
        return True, cur
    for raw in ptr[1:].split("/"):
        tok = unescape_token(raw)
        if isinstance(cur, dict) and tok in cur:
            cur = cur[tok]
        elif isinstance(cur, list) and tok.isdigit() and int(tok) < len(cur):
            cur = cur[int(tok)]
        else:
            return False, None
    return True, cur


class SchemaLoader:
    """Loads the schemas of one workspace, each file once (shared contracts cost nothing)."""

    def __init__(self, root: Path, *, max_bytes: int = MAX_SCHEMA_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._files: dict[str, _Analysis] = {}
        self._docs: dict[str, tuple[SchemaDoc | None, list[Diagnostic]]] = {}
        self._root_real = root.resolve()
        self._cstate: dict[Loc, int] = {}
        self._cfound: list[tuple[str, Diagnostic]] = []
        self._cseen: set[frozenset[Loc]] = set()
        self._paths: dict[tuple[str, str, str], str | InputError] = {}

    def path(self, raw: str, base_dir: str = "", what: str = "path") -> str:
        """`resolve_path` under this loader's root, memoised (shared paths cost nothing)."""
        key = (raw, base_dir, what)
        got = self._paths.get(key)
        if got is None:
            try:
                got = resolve_path(self.root, raw, base_dir, what, root_real=self._root_real)
            except InputError as err:
                got = err
            self._paths[key] = got
        if isinstance(got, InputError):
            raise InputError(got.message)
        return got

    # ------------------------------------------------------------------ public API

    def resolve(self, rel: str) -> tuple[SchemaDoc | None, list[Diagnostic]]:
        """The SchemaDoc of a workspace-relative file, or None with every problem found.

        Problems cover the file and every file reachable from it through `$ref`.
        """
        cached = self._docs.get(rel)
        if cached is None:
            cached = self._docs[rel] = self._build(rel)
        return cached

    def load(self, rel: str) -> SchemaDoc:
        """Like `resolve`, raising the first problem as `SchemaError` / `RefError`."""
        doc, problems = self.resolve(rel)
        if doc is None:
            raise _as_error(problems)
        return doc

    def inline(
        self, schema: JSON, where: str, *, file: str = "teamrel.yaml", pointer: str = ""
    ) -> tuple[SchemaDoc | None, list[Diagnostic]]:
        """A schema written inline; problems are located at `file` + `pointer`."""
        label = f"inline:{where}"
        an = self._analyze_data(label, file, pointer, schema, allow_files=False)
        problems = list(an.problems)
        problems += self._cycles({label: an}, [label], shared=False)
        if problems:
            return None, problems
        return SchemaDoc.inline(schema, where), []

    # ------------------------------------------------------------------ internals

    def _build(self, rel: str) -> tuple[SchemaDoc | None, list[Diagnostic]]:
        closure: dict[str, _Analysis] = {}
        order = [rel]
        while order:
            key = order.pop()
            if key in closure:
                continue
            an = self._analysis(key)
            closure[key] = an
            order.extend(d for d in an.deps if d not in closure)
        problems: list[Diagnostic] = []
        for an in closure.values():
            problems.extend(an.problems)
        for an in closure.values():
            for ref in an.refs:
                if ref.target is None or ref.target not in closure:
                    continue
                problems.extend(self._check_fragment(an, ref, closure[ref.target]))
        problems += self._cycles(closure, list(closure))
        if problems:
            return None, self._with_lines(_dedupe(problems))
        main = closure[rel]
        doc = SchemaDoc.model_validate(
            {
                "uri": file_uri(rel),
                "schema": main.data,
                "resources": {file_uri(k): closure[k].data for k in sorted(closure) if k != rel},
            }
        )
        return doc, []

    def locate(self, problems: list[Diagnostic]) -> list[Diagnostic]:
        """Fill in the line of each problem's JSON pointer in the contract file it names."""
        return self._with_lines(problems)

    def _with_lines(self, problems: list[Diagnostic]) -> list[Diagnostic]:
        """Fill in the line of each problem's JSON pointer in its file (error path only)."""
        maps: dict[str, YamlDoc | None] = {}
        out: list[Diagnostic] = []
        for p in problems:
            if p.line is None and p.file and p.pointer is not None and p.file in self._files:
                if p.file not in maps:
                    maps[p.file] = self._line_map(p.file)
                lines = maps[p.file]
                if lines is not None:
                    p = dataclasses.replace(p, line=lines.line_of(p.pointer))
            out.append(p)
        return out

    def _line_map(self, rel: str) -> YamlDoc | None:
        # JSON is (nearly) YAML: the YAML reader's line map locates pointers in a JSON file.
        # A file over the size cap was refused unread: parsing it here would cost what the
        # cap exists to avoid (a 50 MB contract took 17 s and 570 MB just to say "too large").
        try:
            if (self.root / rel).stat().st_size > self.max_bytes:
                return None
            text = (self.root / rel).read_text("utf-8-sig")
            return parse_yaml(text.replace("\t", " "), rel)
        except (OSError, UnicodeDecodeError, YamlError):
            return None

    def _analysis(self, rel: str) -> _Analysis:
        an = self._files.get(rel)
        if an is None:
            an = self._files[rel] = self._read(rel)
        return an

    def _read(self, rel: str) -> _Analysis:
        path = self.root / rel
        try:
            with path.open("rb") as fh:
                raw = fh.read(self.max_bytes + 1)
        except OSError as err:
            an = _Analysis(rel, rel, "")
            an.problem("io", "", f"cannot read {rel}: {err.strerror or err}")
            return an
        if len(raw) > self.max_bytes:
            an = _Analysis(rel, rel, "")
            an.problem("too-large", "", f"schema file larger than {self.max_bytes} bytes")
            return an
        try:
            data = json.loads(
                raw.decode("utf-8-sig"),
                object_pairs_hook=no_duplicate_keys,
                parse_constant=reject_constant,
            )
        except UnicodeDecodeError as err:
            an = _Analysis(rel, rel, "")
            an.problem("encoding", "", f"{rel} is not UTF-8 (byte {err.start})")
            return an
        except json.JSONDecodeError as err:
            an = _Analysis(rel, rel, "")
            an.problems.append(
                Diagnostic("json", f"invalid JSON: {err.msg}", file=rel, line=err.lineno)
            )
            return an
        except ValueError as err:
            an = _Analysis(rel, rel, "")
            an.problem("json", "", f"invalid JSON: {err}")
            return an
        except RecursionError:
            an = _Analysis(rel, rel, "")
            an.problem(
                "too-deep",
                "",
                f"JSON nested too deeply (schemas may nest at most {MAX_SCHEMA_DEPTH} levels)",
            )
            return an
        return self._analyze_data(rel, rel, "", data, allow_files=True)

    def _analyze_data(
        self, key: str, file: str, base_pointer: str, data: JSON, *, allow_files: bool
    ) -> _Analysis:
        an = _Analysis(key, file, base_pointer, data)
        try:
            dialect = dialect_of(data)
        except SchemaError as err:
            an.problem("schema-dialect", err.pointer or "", err.message)
            return an
        if not isinstance(data, (dict, bool)):
            an.problem("not-a-schema", "", "a JSON Schema must be an object or a boolean")
            return an
        try:
            errors = meta_errors(data, dialect)
        except RecursionError:
            an.problem("too-deep", "", f"schema nested deeper than {MAX_SCHEMA_DEPTH} levels")
            return an
        for ptr, msg in errors[:MAX_META_ERRORS]:
            an.problem("schema-invalid", ptr, f"not a valid {dialect} schema: {msg}")
        if len(errors) > MAX_META_ERRORS:
            an.problem(
                "schema-invalid", "", f"... and {len(errors) - MAX_META_ERRORS} more violations"
            )
        self._scan(an, dialect, allow_files)
        return an

    def _scan(self, an: _Analysis, dialect: str, allow_files: bool) -> None:
        """Record every schema node's in-place edges, anchors and $refs; refuse $id changes."""
        legacy = dialect in ("draft4", "draft6", "draft7")
        id_key = "id" if dialect == "draft4" else "$id"
        base_dir = posixpath.dirname(an.key) if allow_files else ""
        stack: list[tuple[JSON, str, int]] = [(an.data, "", 0)]
        while stack:
            node, ptr, depth = stack.pop()
            if not isinstance(node, dict):
                continue
            if depth > MAX_SCHEMA_DEPTH:
                an.problem("too-deep", ptr, f"schema nested deeper than {MAX_SCHEMA_DEPTH}")
                return
            edges: list[tuple[str | None, str]] = []
            an.edges[ptr] = edges
            _scan_names(an, node, ptr, id_key, legacy)
            ref = node.get("$ref")
            if isinstance(ref, str):
                target = self._ref(an, ptr, ref, base_dir, allow_files)
                if target is not None:
                    edges.append(target)
                if legacy:
                    # draft 4-7: keywords next to $ref are ignored, so only the $ref applies
                    # in place; the siblings are still scanned (definitions are $ref targets).
                    edges = []
            _scan_children(node, ptr, depth, stack, edges)

    def _ref(
        self, an: _Analysis, ptr: str, ref: str, base_dir: str, allow_files: bool
    ) -> tuple[str, str] | None:
        at = f"{ptr}/$ref"
        path_part, _, fragment = ref.partition("#")
        fragment = unquote(fragment)
        if not path_part:
            an.refs.append(_Ref(ptr, an.key, fragment))
            return (an.key, fragment)
        if not allow_files:
            an.problem(
                "ref-inline",
                at,
                f"$ref {ref!r} refused: an inline schema may only use local '#...' references; "
                "put the schema in a file under contracts/ to share definitions",
            )
            return None
        try:
            rel = self.path(unquote(path_part), base_dir, what="$ref")
        except InputError as err:
            code = "ref-missing" if missing_file(err.message) else "ref-refused"
            if urlsplit(path_part).scheme and len(urlsplit(path_part).scheme) > 1:
                code = "ref-remote"
            an.problem(code, at, err.message)
            return None
        if rel not in an.deps:
            an.deps.append(rel)
        an.refs.append(_Ref(ptr, rel, fragment))
        return (rel, fragment)

    def _check_fragment(self, an: _Analysis, ref: _Ref, target: _Analysis) -> Iterator[Diagnostic]:
        if target.data is None and target.problems:
            return  # the target file's own problems are reported already
        frag = ref.fragment
        ok = (
            _pointer_get(target.data, frag)[0]
            if frag.startswith("/") or not frag
            else (frag in target.anchors)
        )
        if not ok:
            where = "" if target.key == an.key else target.key
            yield Diagnostic(
                "ref-unresolvable",
                f"$ref {where}#{frag} does not resolve",
                file=an.file,
                pointer=an.base_pointer + ref.at + "/$ref",
            )

    def _cycles(
        self, closure: dict[str, _Analysis], keys: list[str], *, shared: bool = True
    ) -> list[Diagnostic]:
        """Cycles of in-place references (see module docstring) among `closure`'s schemas.

        For files the search is incremental across calls (`shared`): a location explored
        for one closure is never explored again, which keeps many files sharing one large
        closure linear. That is sound because a file's references only reach files of its
        own closure, all loaded before the search.
        """
        state: dict[Loc, int] = self._cstate if shared else {}
        found: list[tuple[str, Diagnostic]] = self._cfound if shared else []
        seen_cycles: set[frozenset[Loc]] = self._cseen if shared else set()
        for key in keys:
            for start_ptr in closure[key].edges:
                start = (key, start_ptr)
                if start in state:
                    continue
                path: list[Loc] = [start]
                iters = [iter(_successors(closure, start))]
                state[start] = 1
                while iters:
                    nxt = next(iters[-1], None)
                    if nxt is None:
                        state[path.pop()] = 2
                        iters.pop()
                        continue
                    st = state.get(nxt)
                    if st == 1:
                        cyc = path[path.index(nxt) :]
                        sig = frozenset(cyc)
                        if sig not in seen_cycles:
                            seen_cycles.add(sig)
                            found.append((cyc[0][0], _cycle_diagnostic(closure, cyc)))
                    elif st is None:
                        state[nxt] = 1
                        path.append(nxt)
                        iters.append(iter(_successors(closure, nxt)))
        return [d for k, d in found if k in closure]


def _scan_names(an: _Analysis, node: dict[str, Any], ptr: str, id_key: str, legacy: bool) -> None:
    """A node's anchors (and draft 4-7 `#name` ids); refuse base-URI changes and remote
    dynamic/recursive references."""
    sid = node.get(id_key)
    if isinstance(sid, str):
        if sid.startswith("#") and legacy:
            an.anchors[sid[1:]] = ptr
        else:
            an.problem(
                "ref-id",
                f"{ptr}/{escape_token(id_key)}",
                f"{id_key} {sid!r} refused: a contract is identified by its workspace "
                "path, so $id cannot change the base URI (use $anchor for names)",
            )
    anchor = node.get("$anchor")
    if isinstance(anchor, str):
        an.anchors[anchor] = ptr
    for kw in ("$dynamicRef", "$recursiveRef"):
        val = node.get(kw)
        if isinstance(val, str) and not val.startswith("#"):
            an.problem("ref-remote", f"{ptr}/{escape_token(kw)}", f"{kw} {val!r} refused")


def _scan_children(
    node: dict[str, Any],
    ptr: str,
    depth: int,
    stack: list[tuple[JSON, str, int]],
    edges: list[tuple[str | None, str]],
) -> None:
    """Push a node's subschemas on `stack`; the ones applied in place also become `edges`."""
    for kw, val in node.items():
        child = f"{ptr}/{escape_token(kw)}"
        if kw in _MAP and isinstance(val, dict):
            for name, sub in val.items():
                stack.append((sub, f"{child}/{escape_token(name)}", depth + 1))
            if kw == "dependentSchemas":
                edges.extend((None, f"{child}/{escape_token(n)}") for n in val)
        elif kw == "dependencies" and isinstance(val, dict):
            for name, sub in val.items():
                if isinstance(sub, dict):
                    stack.append((sub, f"{child}/{escape_token(name)}", depth + 1))
                    edges.append((None, f"{child}/{escape_token(name)}"))
        elif kw in _MANY and isinstance(val, list):
            for i, sub in enumerate(val):
                stack.append((sub, f"{child}/{i}", depth + 1))
                if kw in _IN_PLACE_MANY:
                    edges.append((None, f"{child}/{i}"))
        elif kw in _ONE and isinstance(val, (dict, bool)):
            stack.append((val, child, depth + 1))
            if kw in _IN_PLACE_ONE:
                edges.append((None, child))


def _successors(closure: dict[str, _Analysis], loc: Loc) -> list[Loc]:
    """The locations `loc` applies in place (anchors resolved), within `closure`."""
    an = closure.get(loc[0])
    if an is None:
        return []
    out: list[Loc] = []
    for target_key, frag in an.edges.get(loc[1], []):
        if target_key is None:
            out.append((loc[0], frag))
        elif target_key in closure:
            tgt = closure[target_key]
            out.append((target_key, tgt.anchors.get(frag, frag)))
    return out


def _cycle_diagnostic(closure: dict[str, _Analysis], cyc: list[Loc]) -> Diagnostic:
    """The `ref-cycle` problem of one cycle, reported at its first location."""
    first = closure[cyc[0][0]]
    chain = " -> ".join(
        f"{closure[k].key if not k.startswith('inline:') else ''}#{p}" for k, p in [*cyc, cyc[0]]
    )
    return Diagnostic(
        "ref-cycle",
        f"circular $ref: {chain} refers to itself without "
        "descending into the instance, so it can never be evaluated",
        file=first.file,
        pointer=first.base_pointer + cyc[0][1],
    )


def _dedupe(problems: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[Diagnostic] = set()
    out: list[Diagnostic] = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def _as_error(problems: list[Diagnostic]) -> SchemaError:
    first = problems[0] if problems else Diagnostic("schema", "unusable schema")
    cls = RefError if first.code.startswith("ref-") else SchemaError
    return cls(str(first), uri=file_uri(first.file) if first.file else None, pointer=first.pointer)


def load_schema_doc(path: Path, root: Path) -> SchemaDoc:
    """Read the JSON Schema file `path` (under `root`) into a self-contained SchemaDoc.

    Follows `$ref`s to other files under `root` (relative paths only), refuses remote or
    escaping references (`RefError`), checks each file against its dialect's meta-schema
    (`SchemaError`).
    """
    root = root.resolve()
    try:
        rel = path.resolve().relative_to(root).as_posix() if path.is_absolute() else path.as_posix()
        rel = resolve_path(root, rel, what="schema path")
    except ValueError:
        raise RefError(f"{path} is outside the workspace {root}") from None
    except InputError as err:
        raise RefError(err.message) from None
    return SchemaLoader(root).load(rel)


def load_compared(producer: Path, consumer: Path) -> tuple[SchemaDoc, SchemaDoc]:
    """The two schema files `teamrel compat` compares, outside any workspace: each file's
    cross-file `$ref`s are resolved relative to its own directory. An unreadable or invalid
    file raises an `InputError` (or `SchemaError`) naming its role, the file and the JSON
    pointer."""
    docs: list[SchemaDoc] = []
    for role, path in (("producer", producer), ("consumer", consumer)):
        if not path.is_file():
            raise InputError(f"{role} schema {path}: no such file")
        try:
            docs.append(load_schema_doc(path.resolve(), path.resolve().parent))
        except SchemaError as err:
            raise type(err)(
                f"{role} schema {path}: {err.message}", uri=err.uri, pointer=err.pointer
            ) from None
        except InputError as err:
            raise InputError(f"{role} schema {path}: {err.message}", hint=err.hint) from None
    return docs[0], docs[1]
