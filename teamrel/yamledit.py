"""Editing teamrel.yaml in place: adding a member or setting a member's keys, comments kept.

Owns the text edits imports make (`teamrel import mcp`): rather than re-dumping the whole
document (which would drop every comment and reorder keys), each edit replaces or inserts
only the lines it concerns, located with the YAML composer's marks. A key set on a block
member becomes one line `key: <flow value>`; a flow-style container is rewritten as a whole
(one line). After editing, the result is parsed again and must equal the intended data
exactly; otherwise `YamlEditError` is raised and nothing is meant to be written.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import yaml

from teamrel.canonical import JSON
from teamrel.errors import InputError

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: `set_member_keys` value meaning "remove this key"
REMOVE: Any = object()


class YamlEditError(InputError):
    """teamrel.yaml cannot be edited in place (an unusual layout): the message says why."""


def flow(value: Any) -> str:
    """`value` as one line of YAML flow style (`{a: 1, b: [x, y]}`, a quoted string...)."""
    text: str = yaml.safe_dump(
        value, default_flow_style=True, sort_keys=False, width=1 << 30, allow_unicode=True
    )
    text = text.strip()
    # a scalar dump ends with an explicit document end marker
    return text.removesuffix("\n...").removesuffix("...").strip()


def _compose(text: str) -> Any:
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as err:
        raise YamlEditError(f"teamrel.yaml does not parse: {err}") from None


def _get(node: Any, key: str) -> tuple[Any, Any] | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k, v
    return None


def _end(node: Any) -> int:
    """Where the text of `node` really ends (a block collection's mark runs on past
    trailing blank and comment lines; its last descendant's does not)."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _end(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _end(node.value[-1])
    return int(node.end_mark.index)


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _block(entries: Mapping[str, Any], indent: int) -> str:
    pad = " " * indent
    return "".join(f"\n{pad}{k}: {flow(v)}" for k, v in entries.items())


def _check(text: str, expected: Any) -> str:
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:  # pragma: no cover - an edit producing bad YAML is a defect
        raise YamlEditError(f"editing teamrel.yaml in place gave invalid YAML: {err}") from None
    if data != expected:
        raise YamlEditError(
            "teamrel.yaml cannot be edited in place (its layout is unusual here)",
            hint="add the members by hand, or reformat the members section as block YAML",
        )
    return text


def set_member_keys(text: str, member: str, updates: Mapping[str, JSON]) -> str:
    """`text` with the member's keys set (or removed, for `REMOVE`), everything else kept."""
    root = _compose(text)
    expected = copy.deepcopy(yaml.load(text, Loader=_Loader))
    spec = expected["members"][member]
    for key, value in updates.items():
        if value is REMOVE:
            spec.pop(key, None)
        else:
            spec[key] = value
    members = _get(root, "members")
    found = _get(members[1], member) if members else None
    if found is None:
        raise YamlEditError(f"teamrel.yaml has no member {member!r} to update")
    _, node = found
    if not isinstance(node, yaml.MappingNode):
        raise YamlEditError(f"member {member!r} is not a mapping")
    if node.flow_style:
        start, end = node.start_mark.index, node.end_mark.index
        return _check(text[:start] + flow(spec) + text[end:], expected)
    indent = node.value[0][0].start_mark.column if node.value else 4
    # edits from the end of the text backwards, so earlier indexes stay valid
    edits: list[tuple[int, int, str]] = []
    additions: dict[str, Any] = {}
    for key, value in updates.items():
        hit = _get(node, key)
        if hit is None:
            if value is not REMOVE:
                additions[key] = value
            continue
        k, v = hit
        if value is REMOVE:
            # the whole lines of the key, from its line start to the end of its value's line
            start = _line_start(text, k.start_mark.index)
            end = text.find("\n", _end(v))
            edits.append((start, len(text) if end < 0 else end + 1, ""))
        else:
            edits.append((k.start_mark.index, _end(v), f"{key}: {flow(value)}"))
    if additions:
        at = _end(node)
        edits.append((at, at, _block(additions, indent)))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return _check(text, expected)


def add_member(text: str, name: str, spec: Mapping[str, JSON]) -> str:
    """`text` with a new member `name` appended to `members` (created when absent)."""
    root = _compose(text)
    expected = copy.deepcopy(yaml.load(text, Loader=_Loader)) if root is not None else {}
    if not isinstance(expected, dict):
        raise YamlEditError("teamrel.yaml is not a mapping")
    if expected.get("members") is None:
        expected["members"] = {}
    if not isinstance(expected["members"], dict):
        raise YamlEditError("teamrel.yaml's members is not a mapping")
    if name in expected["members"]:
        raise YamlEditError(f"teamrel.yaml already has a member {name!r}")
    expected["members"][name] = dict(spec)
    members = _get(root, "members") if root is not None else None
    if members is None:
        sep = "" if not text or text.endswith("\n") else "\n"
        body = f"members:\n  {name}:" + _block(spec, 4) + "\n"
        return _check(text + sep + body, expected)
    key, node = members
    if isinstance(node, yaml.ScalarNode) or (
        isinstance(node, yaml.MappingNode) and node.flow_style
    ):
        # `members:` (null), `members: {}` or a one-line flow mapping: write it in block style
        start, end = key.start_mark.index, node.end_mark.index
        if isinstance(node, yaml.ScalarNode) and node.value == "":
            end = key.end_mark.index + 1  # the colon
        lines = "".join(f"\n  {m}: {flow(s)}" for m, s in expected["members"].items() if m != name)
        new = "members:" + lines + f"\n  {name}:" + _block(spec, 4)
        return _check(text[:start] + new + text[end:], expected)
    if not isinstance(node, yaml.MappingNode):
        raise YamlEditError("teamrel.yaml's members is not a mapping")
    indent = node.value[0][0].start_mark.column if node.value else 2
    inner = indent + 2
    if node.value:
        first = node.value[0][1]
        if isinstance(first, yaml.MappingNode) and not first.flow_style and first.value:
            inner = first.value[0][0].start_mark.column
    at = _end(node)
    pad = " " * indent
    new = f"\n\n{pad}{name}:" + _block(spec, inner)
    return _check(text[:at] + new + text[at:], expected)
