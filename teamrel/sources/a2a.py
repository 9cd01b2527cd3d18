"""A2A AgentCards: reading one (a file or a URL) into the interface teamrel needs, and writing one.

Owns the card side of the A2A integration (docs/sources.md, "A2A agent cards"):
- `read_card(origin, root, timeout=...)`: the `CardInterface` of an `A2aOrigin` (a card file
  inside the workspace, or a URL fetched over http(s) with a size cap and a timeout): the
  card's name, version, input/output media types ("modes"), its skills, and the per-skill
  JSON Schemas of the teamrel card extension. `teamrel import a2a` and `teamrel drift` read
  cards through it; every failure is a `CardError` naming the card.
- `parse_card`: both card shapes, with the `a2a-sdk` types. SDK 1.x represents v1.0 cards as
  protobuf messages (`a2a.types.a2a_pb2.AgentCard`, required fields marked with
  `google.api.field_behavior`) and ships the v0.3 shape as Pydantic models
  (`a2a.compat.v0_3.types.AgentCard`) with a converter to v1.0
  (`a2a.compat.v0_3.conversions.to_core_agent_card`): a v0.3 card is validated by the v0.3
  model and converted by the SDK, a v1.0 card is parsed into the protobuf message and its
  required fields checked against the message's own field annotations.
- the teamrel card extension (`EXTENSION_URI`): cards carry no JSON Schema per skill, so an
  entry of `capabilities.extensions[]` with this URI carries them in `params.skills`. Its
  schemas are read from the card's JSON itself, not from the protobuf `Struct` the SDK turns
  `params` into (a `Struct` holds every number as a double: `minLength: 1` would come back as
  `1.0`, and integers past 2^53 would change).
- `build_card`: a v1.0 card for `teamrel export a2a`, validated by the same SDK types.

The SDK is an optional extra (`teamrel[a2a]`), imported only when a card is read or written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from teamrel.canonical import JSON, JsonObject

# the strict JSON reading of contract files: no NaN/Infinity, no duplicate keys
from teamrel.contracts import SchemaLoader, no_duplicate_keys, reject_constant, resolve_path
from teamrel.errors import Diagnostic, InputError, SourceError
from teamrel.extras import require
from teamrel.models import NAME_RE, A2aOrigin
from teamrel.sources.pydantic_gen import DIALECT_2020_12
from teamrel.yamlsrc import escape_token

#: The teamrel card extension: per-skill input/output JSON Schemas (docs/sources.md).
EXTENSION_URI = "https://teamrel.dev/extensions/skill-schemas/v1"
#: Where an A2A server publishes its card (A2A spec, "Agent Discovery").
CARD_PATH = "/.well-known/agent-card.json"
#: Largest card read, from a file or a URL (bytes).
MAX_CARD_BYTES = 5 * 1024 * 1024
#: Default time allowed to fetch a card over HTTP (seconds).
DEFAULT_TIMEOUT_S = 10.0

Shape = Literal["1.0", "0.3"]

#: The keys a skill entry of the extension's `params.skills` may have.
_SKILL_SCHEMA_KEYS = ("input_schema", "output_schema")


class CardError(SourceError):
    """An AgentCard cannot be read: the message names the card (file or URL); `diagnostics`
    locate each problem in it (JSON pointer)."""

    def __init__(
        self, card: str, message: str, diagnostics: Sequence[Diagnostic] = (), *, hint: str = ""
    ) -> None:
        super().__init__(f"A2A card {card}: {message}", diagnostics)
        self.card = card
        self.hint = hint or None

    def to_json(self) -> JsonObject:
        doc = super().to_json()
        doc["card"] = self.card
        return doc


@dataclass(frozen=True)
class SkillInterface:
    """One skill of a card: its media types (the card's defaults when it lists none) and the
    schemas the teamrel extension declares for it (None: not declared)."""

    id: str
    name: str
    description: str
    tags: tuple[str, ...]
    input_modes: tuple[str, ...]
    output_modes: tuple[str, ...]
    input_schema: JSON | None = None
    output_schema: JSON | None = None

    def to_json(self) -> JsonObject:
        """Stable JSON form."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "tags": list(self.tags),
            "input_modes": list(self.input_modes),
            "output_modes": list(self.output_modes),
            "input_schema": self.input_schema,
            "output_schema": self.output_schema,
        }


@dataclass(frozen=True)
class CardInterface:
    """What teamrel reads from an AgentCard: identity, media types, skills and their schemas."""

    #: the card file (workspace-relative or as given) or the URL it was fetched from
    source: str
    #: the card's shape: "1.0" (supportedInterfaces) or "0.3" (url + protocolVersion)
    shape: Shape
    name: str
    description: str
    version: str
    #: the primary interface's URL (where the agent is served)
    url: str | None
    default_input_modes: tuple[str, ...]
    default_output_modes: tuple[str, ...]
    skills: tuple[SkillInterface, ...]
    #: whether the card carries the teamrel extension
    extension: bool

    def skill(self, skill_id: str) -> SkillInterface:
        """The skill `skill_id`, or a `CardError` listing the card's skills."""
        for s in self.skills:
            if s.id == skill_id:
                return s
        have = ", ".join(s.id for s in self.skills) or "none"
        raise CardError(self.source, f"has no skill {skill_id!r} (its skills: {have})")

    def modes(self, skill: str | None = None) -> tuple[list[str], list[str]]:
        """(input, output) media types: of one skill, or of the whole agent (the union over its
        skills: what it may accept / may produce; the card's defaults when it has none)."""
        chosen = [self.skill(skill)] if skill is not None else list(self.skills)
        if not chosen:
            return list(self.default_input_modes), list(self.default_output_modes)
        ins: list[str] = []
        outs: list[str] = []
        for s in chosen:
            ins.extend(m for m in s.input_modes if m not in ins)
            outs.extend(m for m in s.output_modes if m not in outs)
        return ins, outs

    def to_json(self) -> JsonObject:
        """Stable JSON form (`teamrel import a2a --format json` embeds it)."""
        return {
            "source": self.source,
            "shape": self.shape,
            "name": self.name,
            "description": self.description,
            "version": self.version,
            "url": self.url,
            "default_input_modes": list(self.default_input_modes),
            "default_output_modes": list(self.default_output_modes),
            "skills": [s.to_json() for s in self.skills],
            "extension": self.extension,
        }


# --------------------------------------------------------------------------- reading


def read_card(
    origin: A2aOrigin, root: Path, *, timeout: float = DEFAULT_TIMEOUT_S
) -> CardInterface:
    """The interface of the card `origin` names: a file inside the workspace `root`, or a URL
    (http or https only; the well-known card path is added to a URL that does not end in
    `.json`). Raises `CardError` naming the card; `MissingExtraError` without `teamrel[a2a]`."""
    if origin.card is not None:
        card = read_card_file(root, origin.card)
    else:
        assert origin.url is not None
        data, where = fetch_card(origin.url, timeout=timeout)
        card = parse_card(data, where)
    if origin.skill is not None:
        card.skill(origin.skill)
    return card


def read_card_file(root: Path, raw: str) -> CardInterface:
    """The card file `raw` (workspace-relative: the same path rules as a schema file)."""
    try:
        rel = resolve_path(root, raw, what="card")
    except InputError as err:
        raise CardError(raw, err.message) from None
    return parse_card(_read_capped(root / rel, rel), rel)


def read_card_path(path: Path, label: str) -> CardInterface:
    """A card file given on the command line (anywhere the user can read)."""
    if not path.is_file():
        what = "no such file" if not path.exists() else "not a regular file"
        raise CardError(label, what)
    return parse_card(_read_capped(path, label), label)


def _read_capped(path: Path, label: str) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_CARD_BYTES + 1)
    except OSError as err:
        raise CardError(label, f"cannot read it: {err.strerror or err}") from None
    if len(data) > MAX_CARD_BYTES:
        raise CardError(label, f"larger than {MAX_CARD_BYTES // (1024 * 1024)} MiB")
    return data


def card_url(url: str) -> str:
    """The URL a card is fetched from: `url` itself when its path ends in `.json`, else the
    well-known card path under it. Refuses anything but an absolute http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise CardError(
            url,
            "only http:// and https:// URLs are fetched",
            hint="give a card file for anything else: teamrel import a2a CARD.json",
        )
    if parts.path.endswith(".json"):
        return url
    path = parts.path.rstrip("/") + CARD_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def fetch_card(
    url: str, *, timeout: float = DEFAULT_TIMEOUT_S, max_bytes: int = MAX_CARD_BYTES
) -> tuple[bytes, str]:
    """The bytes of the card served at `url` (see `card_url`) and the URL they came from.

    Redirects are followed between http(s) URLs only; a body over `max_bytes`, a status other
    than 200, a timeout or a refused connection is a `CardError` naming the URL.
    """
    target = card_url(url)
    httpx = require("httpx", "a2a")
    chunks: list[bytes] = []
    size = 0
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=5) as client,
            client.stream("GET", target, headers={"Accept": "application/json"}) as resp,
        ):
            if resp.status_code != 200:
                raise CardError(target, f"the server answered HTTP {resp.status_code}")
            declared = resp.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise CardError(target, f"larger than {max_bytes} bytes ({declared} declared)")
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise CardError(target, f"larger than {max_bytes} bytes")
                chunks.append(chunk)
    except httpx.TimeoutException:
        raise CardError(target, f"no answer within {timeout:g} s") from None
    except httpx.HTTPError as err:
        raise CardError(target, f"cannot fetch it: {type(err).__name__}: {err}") from None
    return b"".join(chunks), target


def load_json(data: bytes, source: str) -> Any:
    """Strict JSON (UTF-8, no NaN, no duplicate keys) or a `CardError` naming the card."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise CardError(source, f"is not UTF-8 text (byte {err.start})") from None
    try:
        return json.loads(text, parse_constant=reject_constant, object_pairs_hook=no_duplicate_keys)
    except json.JSONDecodeError as err:
        raise CardError(
            source, f"is not JSON: {err.msg} (line {err.lineno}, column {err.colno})"
        ) from None
    except ValueError as err:
        raise CardError(source, f"is not JSON: {err}") from None
    except RecursionError:
        raise CardError(source, "is nested too deeply to be a card") from None


def card_shape(raw: Mapping[str, JSON]) -> Shape:
    """v1.0 cards list `supportedInterfaces`; v0.3 cards have a top-level `url` (with
    `protocolVersion`, `preferredTransport`, `additionalInterfaces`) instead."""
    if "supportedInterfaces" in raw or "supported_interfaces" in raw:
        return "1.0"
    if any(k in raw for k in ("url", "protocolVersion", "preferredTransport")):
        return "0.3"
    return "1.0"


def parse_card(data: bytes, source: str, *, root: Path | None = None) -> CardInterface:
    """The `CardInterface` of a card's bytes (either shape), validated with the SDK's types;
    `source` names the card in every error."""
    raw = load_json(data, source)
    if not isinstance(raw, dict):
        raise CardError(source, "is not an AgentCard: expected a JSON object")
    shape = card_shape(raw)
    card = _parse_v03(raw, source) if shape == "0.3" else parse_v10(raw, source)
    schemas, has_ext = _extension_schemas(raw, source, {s.id for s in card.skills}, root)
    default_in = tuple(card.default_input_modes)
    default_out = tuple(card.default_output_modes)
    skills: list[SkillInterface] = []
    seen: set[str] = set()
    for i, s in enumerate(card.skills):
        if s.id in seen:
            raise CardError(
                source,
                f"lists skill id {s.id!r} twice",
                [
                    Diagnostic(
                        "a2a-card", f"duplicate skill id {s.id!r}", source, None, f"/skills/{i}/id"
                    )
                ],
            )
        seen.add(s.id)
        got = schemas.get(s.id, {})
        skills.append(
            SkillInterface(
                id=s.id,
                name=s.name,
                description=s.description,
                tags=tuple(s.tags),
                input_modes=tuple(s.input_modes) or default_in,
                output_modes=tuple(s.output_modes) or default_out,
                input_schema=got.get("input_schema"),
                output_schema=got.get("output_schema"),
            )
        )
    return CardInterface(
        source=source,
        shape=shape,
        name=card.name,
        description=card.description,
        version=card.version,
        url=card.supported_interfaces[0].url if card.supported_interfaces else None,
        default_input_modes=default_in,
        default_output_modes=default_out,
        skills=tuple(skills),
        extension=has_ext,
    )


def _parse_v03(raw: dict[str, Any], source: str) -> Any:
    """A v0.3 card: validated by the SDK's v0.3 model, converted to v1.0 by the SDK."""
    pydantic = require("pydantic", "a2a")
    types_v03 = require("a2a.compat.v0_3.types", "a2a")
    conversions = require("a2a.compat.v0_3.conversions", "a2a")
    try:
        compat = types_v03.AgentCard.model_validate(raw)
    except pydantic.ValidationError as err:
        problems = []
        for e in err.errors():
            ptr = "".join(f"/{t}" for t in e["loc"])
            what = "missing required field" if e["type"] == "missing" else "invalid field"
            problems.append(Diagnostic("a2a-card", f"{what} {ptr or '/'}", source, None, ptr))
        raise CardError(
            source,
            "is not a valid v0.3 AgentCard: " + "; ".join(p.message for p in problems[:5]),
            problems,
        ) from None
    try:
        return conversions.to_core_agent_card(compat)
    except Exception as err:  # the SDK's converter raises what it likes on odd input
        raise CardError(source, f"cannot be converted to v1.0: {type(err).__name__}") from None


def parse_v10(raw: JsonObject, source: str) -> Any:
    """A v1.0 card as the SDK's protobuf `AgentCard`, its required fields present (the
    message's `field_behavior = REQUIRED` annotations, checked on the JSON, since proto3
    cannot tell an absent field from an empty one)."""
    pb = require("a2a.types.a2a_pb2", "a2a")
    json_format = require("google.protobuf.json_format", "a2a")
    missing = _missing_required(pb.AgentCard.DESCRIPTOR, raw, "")
    if missing:
        problems = [
            Diagnostic("a2a-card", f"missing required field {p}", source, None, p) for p in missing
        ]
        raise CardError(
            source,
            "is not a valid v1.0 AgentCard: missing required "
            + ", ".join(missing[:8])
            + (f" and {len(missing) - 8} more" if len(missing) > 8 else ""),
            problems,
        )
    try:
        return json_format.ParseDict(raw, pb.AgentCard(), ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError) as err:
        # protobuf's message names the field; it is the only place that knows it
        raise CardError(source, f"is not a valid v1.0 AgentCard: {err}") from None
    except RecursionError:
        raise CardError(source, "is nested too deeply to be a card") from None


def _missing_required(descriptor: Any, raw: Any, ptr: str) -> list[str]:
    """JSON pointers of the required fields absent from `raw`, recursively into messages."""
    if not isinstance(raw, dict):
        return []  # a wrong type is ParseDict's to report
    fb = require("google.api.field_behavior_pb2", "a2a")
    out: list[str] = []
    for f in descriptor.fields:
        key = f.json_name if f.json_name in raw else f.name
        present = key in raw and raw[key] is not None
        if not present:
            if fb.REQUIRED in f.GetOptions().Extensions[fb.field_behavior]:
                out.append(f"{ptr}/{f.json_name}")
            continue
        sub = f.message_type
        if sub is None or sub.full_name.startswith("google.protobuf."):
            continue
        value = raw[key]
        if sub.GetOptions().map_entry:
            value_field = sub.fields_by_name["value"]
            if value_field.message_type is not None and isinstance(value, dict):
                for k, v in value.items():
                    out += _missing_required(value_field.message_type, v, f"{ptr}/{key}/{k}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                out += _missing_required(sub, item, f"{ptr}/{key}/{i}")
        else:
            out += _missing_required(sub, value, f"{ptr}/{key}")
    return out


def _extension_schemas(
    raw: dict[str, Any], source: str, skill_ids: set[str], root: Path | None
) -> tuple[dict[str, dict[str, JSON]], bool]:
    """The per-skill schemas of the teamrel extension (read from the card's JSON), every
    problem located; and whether the card carries the extension at all."""
    caps = raw.get("capabilities")
    exts = caps.get("extensions") if isinstance(caps, dict) else None
    if not isinstance(exts, list):
        return {}, False
    found = [
        (i, e) for i, e in enumerate(exts) if isinstance(e, dict) and e.get("uri") == EXTENSION_URI
    ]
    if not found:
        return {}, False
    problems = _Problems(source)
    if len(found) > 1:
        problems.add(
            f"/capabilities/extensions/{found[1][0]}", "the teamrel extension is listed twice"
        )
    i, ext = found[0]
    base = f"/capabilities/extensions/{i}/params"
    params = ext.get("params")
    skills = params.get("skills") if isinstance(params, dict) else None
    out: dict[str, dict[str, JSON]] = {}
    loader = SchemaLoader(root or Path("."))
    if not isinstance(skills, dict):
        problems.add(base, 'the teamrel extension\'s params must be {"skills": {SKILL_ID: {...}}}')
    else:
        for sid, entry in skills.items():
            sptr = f"{base}/skills/{escape_token(sid)}"
            got = _skill_schemas(loader, sid, entry, sptr, skill_ids, problems)
            if got is not None:
                out[sid] = got
    if problems.found:
        n = len(problems.found)
        raise CardError(
            source,
            f"the teamrel extension ({EXTENSION_URI}) is invalid: {problems.found[0].message}"
            + (f" (and {n - 1} more problem{'s' if n > 2 else ''})" if n > 1 else ""),
            problems.found,
        )
    return out, True


@dataclass
class _Problems:
    """The located problems of one card's extension, collected so that all are reported."""

    source: str
    found: list[Diagnostic] = field(default_factory=list)

    def add(self, ptr: str, message: str, code: str = "a2a-extension") -> None:
        self.found.append(Diagnostic(code, message, self.source, None, ptr))


def _skill_schemas(
    loader: SchemaLoader,
    sid: str,
    entry: Any,
    sptr: str,
    skill_ids: set[str],
    problems: _Problems,
) -> dict[str, JSON] | None:
    """The usable schemas of one skill's entry (at `sptr`) in the extension, None when the
    entry itself is unusable; each problem added to `problems`."""
    if sid not in skill_ids:
        problems.add(sptr, f"names skill {sid!r}, which the card does not list")
        return None
    if not isinstance(entry, dict):
        problems.add(sptr, "must be an object with input_schema and/or output_schema")
        return None
    for key in entry:
        if key not in _SKILL_SCHEMA_KEYS:
            problems.add(
                f"{sptr}/{escape_token(key)}", f"unknown key {key!r} (input_schema, output_schema)"
            )
    got: dict[str, JSON] = {}
    for key in _SKILL_SCHEMA_KEYS:
        if key not in entry:
            continue
        schema = entry[key]
        _, diags = loader.inline(
            schema, f"a2a:{sid}:{key}", file=problems.source, pointer=f"{sptr}/{key}"
        )
        for d in diags:
            problems.add(d.pointer or f"{sptr}/{key}", d.message, d.code)
        if not diags:
            got[key] = schema
    return got


# --------------------------------------------------------------------------- writing


def with_dialect(schema: JSON) -> JSON:
    """`schema` with its dialect explicit: 2020-12 written first when it names none."""
    if isinstance(schema, dict) and "$schema" not in schema:
        return {"$schema": DIALECT_2020_12, **schema}
    return schema


def check_skill_id(skill_id: str, card: str) -> str:
    """A skill id that is safe as a file name (it names the skill's contract files)."""
    if not NAME_RE.match(skill_id):
        raise CardError(
            card,
            f"skill id {skill_id!r} cannot name a contract file: use letters, digits, '.', "
            "'_' and '-', starting with a letter or digit",
        )
    return skill_id


def build_card(
    *,
    name: str,
    description: str,
    version: str,
    url: str,
    input_modes: Sequence[str],
    output_modes: Sequence[str],
    skills: Sequence[Mapping[str, JSON]],
    schemas: Mapping[str, Mapping[str, JSON]],
) -> dict[str, JSON]:
    """A v1.0 AgentCard (JSON) carrying the teamrel extension, validated by the SDK's types.

    `skills`: `{id, name, description, tags, input_modes?, output_modes?}` each; `schemas`:
    skill id -> `{input_schema?, output_schema?}` (self-contained schemas).
    """
    card_skills: list[JSON] = []
    for s in skills:
        entry: dict[str, JSON] = {
            "id": s["id"],
            "name": s.get("name") or s["id"],
            "description": s.get("description") or s.get("name") or s["id"],
            "tags": list(s.get("tags") or []),
        }
        if s.get("input_modes"):
            entry["inputModes"] = list(s["input_modes"])
        if s.get("output_modes"):
            entry["outputModes"] = list(s["output_modes"])
        card_skills.append(entry)
    doc: dict[str, JSON] = {
        "name": name,
        "description": description,
        "version": version,
        "supportedInterfaces": [
            {"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
        ],
        "capabilities": {
            "extensions": [
                {
                    "uri": EXTENSION_URI,
                    "description": "teamrel: JSON Schemas of each skill's input and output",
                    "required": False,
                    "params": {
                        "skills": {sid: dict(entry) for sid, entry in schemas.items() if entry}
                    },
                }
            ]
        },
        "defaultInputModes": list(input_modes),
        "defaultOutputModes": list(output_modes),
        "skills": card_skills,
    }
    # validated as a reader will read it: the SDK's v1.0 message, then teamrel's own parser
    parse_card(json.dumps(doc).encode("utf-8"), f"{name} (exported)")
    return doc
