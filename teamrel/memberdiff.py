"""Field-level differences between two versions of one member.

Owns `field_changes`: what changed between two resolved members, field by field (version,
model id and each parameter, prompt digest with a unified diff of its text, tools, eval
metrics, metadata), as `teamrel plan` and `teamrel diff` show it; each change is the plan
document's own `FieldChange`. Schemas are compared by
the compatibility engine elsewhere; here they are not looked at.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from teamrel.models import ResolvedMember
from teamrel.plandoc import FieldChange

#: Most lines of a prompt's unified diff shown (more with --explain).
PROMPT_DIFF_LINES = 40
PROMPT_DIFF_LINES_EXPLAIN = 400


def _prompt(m: ResolvedMember) -> tuple[str | None, str | None]:
    p = m.spec.get("prompt")
    if isinstance(p, dict):
        text = p.get("text")
        sha = p.get("sha256")
        return (str(sha) if sha is not None else None, str(text) if text is not None else None)
    return (None, None)


def _model(m: ResolvedMember) -> dict[str, Any]:
    model = m.spec.get("model")
    return model if isinstance(model, dict) else {}


def _evals(m: ResolvedMember) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for e in m.spec.get("evals") or []:
        if isinstance(e, dict):
            out[str(e.get("suite"))] = dict(e.get("metrics") or {})
    return out


def _prompt_change(
    old: ResolvedMember, new: ResolvedMember, *, explain: bool
) -> tuple[FieldChange | None, str | None]:
    """The prompt digest's change and a unified diff of its text (both None when unchanged;
    no diff when either text is unknown)."""
    (so, to), (sn, tn) = _prompt(old), _prompt(new)
    if so == sn:
        return None, None
    change = FieldChange(field="prompt", old=so, new=sn)
    if to is None or tn is None:
        return change, None
    lines = list(
        difflib.unified_diff(
            to.splitlines(),
            tn.splitlines(),
            fromfile=f"{old.name or 'old'}@{old.version}",
            tofile=f"{new.name or 'new'}@{new.version}",
            lineterm="",
            n=1,
        )
    )
    limit = PROMPT_DIFF_LINES_EXPLAIN if explain else PROMPT_DIFF_LINES
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more diff lines)"]
    return change, "\n".join(lines)


def _tool_changes(old: ResolvedMember, new: ResolvedMember) -> list[FieldChange]:
    """A change per tool the member now calls, then per tool it no longer calls."""
    before, after = set(old.tools), set(new.tools)
    added = [
        FieldChange(field="tools", old=None, new=t, change="added") for t in sorted(after - before)
    ]
    removed = [
        FieldChange(field="tools", old=t, new=None, change="removed")
        for t in sorted(before - after)
    ]
    return added + removed


def _mapping_changes(
    prefix: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> list[FieldChange]:
    """A change per key whose value differs (`prefix.key`), keys sorted."""
    return [
        FieldChange(field=f"{prefix}.{key}", old=old.get(key), new=new.get(key))
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]


def _eval_changes(old: ResolvedMember, new: ResolvedMember) -> list[FieldChange]:
    """A suite added or removed as a whole, else a change per metric that moved."""
    out: list[FieldChange] = []
    eo, en = _evals(old), _evals(new)
    for suite in sorted(set(eo) | set(en)):
        a, b = eo.get(suite), en.get(suite)
        if a is None or b is None:
            if a != b:
                out.append(FieldChange(field=f"evals.{suite}", old=a, new=b))
            continue
        out += _mapping_changes(f"evals.{suite}", a, b)
    return out


def field_changes(
    old: ResolvedMember, new: ResolvedMember, *, explain: bool = False
) -> tuple[list[FieldChange], str | None]:
    """Field-level differences (version, model, parameters, prompt, tools, evals, metadata)
    and a unified diff of the prompt text (None when the prompt is unchanged)."""
    out: list[FieldChange] = []

    def add(name: str, a: Any, b: Any) -> None:
        if a != b:
            out.append(FieldChange(field=name, old=a, new=b))

    add("version", old.version, new.version)
    add("description", old.spec.get("description"), new.spec.get("description"))
    mo, mn = _model(old), _model(new)
    add("model.provider", mo.get("provider"), mn.get("provider"))
    add("model.id", mo.get("id"), mn.get("id"))
    po, pn = dict(mo.get("parameters") or {}), dict(mn.get("parameters") or {})
    out += _mapping_changes("model.parameters", po, pn)
    # the provider profile changes what reaches the consumers (absent on most members)
    add("structured_output", old.spec.get("structured_output"), new.spec.get("structured_output"))
    prompt, diff_text = _prompt_change(old, new, explain=explain)
    if prompt is not None:
        out.append(prompt)
    out += _tool_changes(old, new)
    out += _eval_changes(old, new)
    meto, metn = dict(old.spec.get("metadata") or {}), dict(new.spec.get("metadata") or {})
    out += _mapping_changes("metadata", meto, metn)
    return out, diff_text
