"""Editing teamrel.yaml in place: adding a member or setting keys, comments kept.

Owns the text edits imports make (`teamrel import mcp`, `teamrel import openai-agents`):
rather than re-dumping the whole document (which would drop every comment and reorder keys),
each edit replaces or inserts only the lines it concerns, located with the YAML composer's
marks. A key set on a block mapping becomes one line `key: <flow value>`, or (`set_keys`
with `block`) the block YAML `yaml.dump` would write there; a flow-style container is
rewritten as a whole (one line). After editing, the result is parsed again and must equal
the intended data exactly; otherwise `YamlEditError` is raised and nothing is meant to be written.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
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
    return set_keys(text, ("members", member), updates)


def set_keys(
    text: str, path: Sequence[str], updates: Mapping[str, JSON], *, block: bool = False
) -> str:
    """`text` with the keys of the mapping at `path` (`()`: the document itself; `("members",
    "x")`: member x) set, or removed for `REMOVE`; everything else kept. A value is written
    as one flow line, or with `block` as block YAML laid out as `yaml.dump` lays it out."""
    node = _mapping_at(_compose(text), path)
    expected = copy.deepcopy(yaml.load(text, Loader=_Loader))
    target = expected
    for key in path:
        target = target[key]
    for key, value in updates.items():
        if value is REMOVE:
            target.pop(key, None)
        else:
            target[key] = value
    if node.flow_style:
        start, end = node.start_mark.index, node.end_mark.index
        return _check(text[:start] + flow(target) + text[end:], expected)
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
        elif block:
            edits.append((k.start_mark.index, _end(v), _block_entry(key, value, indent)))
        else:
            edits.append((k.start_mark.index, _end(v), f"{key}: {flow(value)}"))
    if additions:
        at = _end(node)
        if block:
            new = "".join(
                f"\n{' ' * indent}{_block_entry(k, v, indent)}" for k, v in additions.items()
            )
        else:
            new = _block(additions, indent)
        edits.append((at, at, new))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return _check(text, expected)


def _mapping_at(root: Any, path: Sequence[str]) -> Any:
    """The mapping node at `path`; raises `YamlEditError` when there is none."""
    node = root
    for depth, key in enumerate(path):
        found = _get(node, key)
        if found is None:
            raise YamlEditError(f"teamrel.yaml has no {_what(path, depth)} to update")
        node = found[1]
    if not isinstance(node, yaml.MappingNode):
        what = _what(path, len(path) - 1) if path else "teamrel.yaml"
        raise YamlEditError(f"{what} is not a mapping")
    return node


def _what(path: Sequence[str], depth: int) -> str:
    if len(path) == 2 and path[0] == "members" and depth == 1:
        return f"member {path[1]!r}"
    return "/".join(path[: depth + 1])


class _NoAliases(yaml.SafeDumper):
    # a value shared by two places is written out twice, never as a YAML alias
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _block_entry(key: str, value: Any, column: int) -> str:
    """`key: value` in block style, every line after the first indented to `column`."""
    text: str = yaml.dump(
        {key: value},
        Dumper=_NoAliases,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=max(100 - column, 40),
    )
    return text.rstrip("\n").replace("\n", "\n" + " " * column)


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
