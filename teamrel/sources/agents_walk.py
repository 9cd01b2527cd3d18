"""Walking an OpenAI Agents SDK team from its entry agent: the program run in a child
interpreter by `teamrel import openai-agents`.

It imports the application's module (its import-time code runs here, never inside teamrel),
follows the entry agent's handoffs recursively (each agent once, cycles included) and
describes every agent as plain JSON: its instructions (text, or the callable computing them),
model and settings, function tools (`params_json_schema`), output type (the Pydantic schema in
serialisation mode, closed as `teamrel contracts sync` closes it) and each handoff with its
typed input (`input_type`, in validation mode: what the SDK validates the arguments with). No
model is called and nothing touches the network: building and reading `Agent`s needs neither.

Like `pydantic_gen.py` it imports nothing from teamrel; it loads `pydantic_gen.py` by path
(given in the request) to generate schemas exactly as `teamrel contracts sync` does. Request on
stdin `{"entry": "pkg.mod:agent", "pydantic_gen": "/path/pydantic_gen.py"}`; answer on stdout
`{"ok": {...}}`, `{"error": "..."}` or `{"missing": "agents"}` (the SDK is not installed).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import sys
from typing import Any, Literal

DIALECT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


class Problem(Exception):
    """The entry cannot be walked (the message says why)."""


def _load_gen(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("_teamrel_pydantic_gen", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _ref_of(obj: Any) -> str | None:
    """`module:Qualname` when `obj` can be imported back by that name (module level)."""
    module = getattr(obj, "__module__", None)
    qual = getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qual, str) or "<" in qual:
        return None
    cur: Any = sys.modules.get(module)
    for part in qual.split("."):
        cur = getattr(cur, part, None)
    return f"{module}:{qual}" if cur is obj else None


def _schema_of(gen: Any, typ: Any, mode: Literal["validation", "serialization"]) -> dict[str, Any]:
    """(schema, pydantic ref) of a type, the way `teamrel contracts sync` generates it."""
    from pydantic import BaseModel, TypeAdapter

    if isinstance(typ, type) and issubclass(typ, BaseModel):
        schema: dict[str, Any] = gen.model_schema(typ, mode)
        return {"schema": schema, "pydantic": _ref_of(typ)}
    try:
        raw = TypeAdapter(typ).json_schema(mode=mode)
    except Exception as err:
        raise Problem(
            f"Pydantic cannot describe the type {typ!r}: {type(err).__name__}: {err}"
        ) from None
    return {
        "schema": {"$schema": DIALECT_2020_12, **{k: v for k, v in raw.items() if k != "$schema"}},
        "pydantic": None,
    }


def _callable_name(fn: Any) -> str:
    module = getattr(fn, "__module__", None) or "?"
    qual = getattr(fn, "__qualname__", None) or type(fn).__name__
    return f"{module}:{qual}"


def _model(agent: Any) -> dict[str, Any]:
    from agents.models.default_models import get_default_model

    model = agent.model
    settings: dict[str, Any] = {}
    try:
        raw = agent.model_settings.to_json_dict()
        settings = {k: v for k, v in raw.items() if v is not None and v != {} and v != []}
    except Exception:
        settings = {}
    if model is None:
        return {
            "provider": "openai",
            "id": get_default_model(),
            "default": True,
            "parameters": settings,
        }
    if isinstance(model, str):
        provider, _, rest = model.partition("/")
        if rest and provider in ("litellm", "any-llm"):
            return {"provider": provider, "id": rest, "default": False, "parameters": settings}
        return {"provider": "openai", "id": model, "default": False, "parameters": settings}
    name = getattr(model, "model", None)
    cls = type(model).__name__
    provider = "openai" if cls.startswith("OpenAI") else cls.removesuffix("Model").lower() or cls
    if not isinstance(name, str):
        raise Problem(f"agent {agent.name!r}: its model object {cls} names no model id")
    return {"provider": provider, "id": name, "default": False, "parameters": settings}


def _handoff_input(h: Any) -> Any:
    """The `input_type` a `handoff(...)` was built with (kept only in its closure)."""
    fn = h.on_invoke_handoff
    for _ in range(3):  # partial(_invoke_handoff_with_redaction, impl) in 0.24
        if isinstance(fn, functools.partial):
            inner = [a for a in fn.args if callable(a)]
            fn = inner[-1] if inner else fn.func
            continue
        code = getattr(fn, "__code__", None)
        cells = getattr(fn, "__closure__", None) or ()
        if code is None:
            return None
        free = dict(zip(code.co_freevars, cells, strict=False))
        if "input_type" in free:
            try:
                return free["input_type"].cell_contents
            except ValueError:
                return None
        return None
    return None


def walk(entry_ref: str, gen: Any) -> dict[str, Any]:
    """Every agent reachable from the entry agent, described as JSON."""
    try:
        obj = gen.load_object(entry_ref, "an agent", "agent")
    except gen.SourceProblem as err:
        raise Problem(str(err)) from None
    from agents import Agent

    if not isinstance(obj, Agent):
        raise Problem(f"is not an OpenAI Agents SDK Agent: it is {type(obj).__name__}")

    agents_out: list[dict[str, Any]] = []
    by_name: dict[str, Any] = {}
    todo = [obj]
    notes: list[str] = []
    while todo:
        agent = todo.pop(0)
        if agent.name in by_name:
            if by_name[agent.name] is not agent:
                raise Problem(
                    f"two different agents are named {agent.name!r}: teamrel needs one member "
                    "per name (rename one)"
                )
            continue
        by_name[agent.name] = agent
        described, targets = _describe(gen, agent, notes)
        agents_out.append(described)
        todo.extend(targets)
    return {"entry": obj.name, "agents": agents_out, "notes": notes}


def _describe(gen: Any, agent: Any, notes: list[str]) -> tuple[dict[str, Any], list[Any]]:
    """One agent as JSON, and the agents it hands off to (in order)."""
    instructions = _instructions(agent.instructions)
    output = _output(gen, agent.output_type)
    tools = _tools(agent, notes)
    if getattr(agent, "mcp_servers", None):
        notes.append(
            f"agent {agent.name!r}: its MCP servers are not imported (teamrel import mcp "
            "reads them)"
        )
    handoffs: list[dict[str, Any]] = []
    targets: list[Any] = []
    for h in agent.handoffs:
        target, payload = _handoff(gen, agent, h)
        handoffs.append({"to": target.name, "input": payload})
        targets.append(target)
    described = {
        "name": agent.name,
        "description": agent.handoff_description,
        "instructions": instructions,
        "model": _model(agent),
        "output": output,
        "tools": tools,
        "handoffs": handoffs,
    }
    return described, targets


def _instructions(instr: Any) -> dict[str, Any]:
    if isinstance(instr, str):
        return {"text": instr}
    if instr is None:
        return {"text": ""}
    return {"callable": _callable_name(instr)}


def _output(gen: Any, otype: Any) -> dict[str, Any] | None:
    """The agent's output type: its schema, and how the SDK sends it (strict, wrapped)."""
    from agents.agent_output import AgentOutputSchema, AgentOutputSchemaBase

    if otype is None or otype is str:
        return None
    if isinstance(otype, AgentOutputSchemaBase):
        return {
            "schema": {"$schema": DIALECT_2020_12, **otype.json_schema()},
            "pydantic": None,
            "strict": bool(otype.is_strict_json_schema()),
            "plain": not otype.is_plain_text(),
            "type": type(otype).__name__,
        }
    aos = AgentOutputSchema(otype)
    return {
        **_schema_of(gen, otype, "serialization"),
        "strict": bool(aos.is_strict_json_schema()),
        # the SDK wraps a non-object type in {"response": ...} for the model
        "plain": not aos._is_wrapped,
        "type": getattr(otype, "__name__", repr(otype)),
    }


def _tools(agent: Any, notes: list[str]) -> list[dict[str, Any]]:
    """The agent's function tools; a hosted tool gets a note."""
    from agents import FunctionTool

    tools: list[dict[str, Any]] = []
    for tool in agent.tools:
        if isinstance(tool, FunctionTool):
            tools.append(
                {
                    "name": tool.name,
                    "description": tool.description or None,
                    "schema": {"$schema": DIALECT_2020_12, **tool.params_json_schema},
                    "strict": bool(tool.strict_json_schema),
                }
            )
        else:
            notes.append(
                f"agent {agent.name!r}: the {type(tool).__name__} tool is hosted by the "
                "provider and not imported"
            )
    return tools


def _handoff(gen: Any, agent: Any, h: Any) -> tuple[Any, dict[str, Any] | None]:
    """(target agent, typed input or None) of one of `agent`'s handoffs."""
    from agents import Agent, Handoff

    if isinstance(h, Agent):
        return h, None
    if not isinstance(h, Handoff):
        raise Problem(f"agent {agent.name!r}: a handoff is a {type(h).__name__}")
    ref = getattr(h, "_agent_ref", None)
    target = ref() if ref is not None else None
    if target is None:
        raise Problem(
            f"agent {agent.name!r}: the handoff {h.tool_name!r} names no agent that "
            "teamrel can reach (build it with agents.handoff(agent, ...))"
        )
    itype = _handoff_input(h)
    if itype is not None:
        return target, _schema_of(gen, itype, "validation")
    if h.input_json_schema.get("properties"):
        return target, {
            "schema": {"$schema": DIALECT_2020_12, **h.input_json_schema},
            "pydantic": None,
        }
    return target, None


def _main() -> None:
    out = sys.stdout
    # the application's import-time prints must not corrupt the answer
    sys.stdout = sys.stderr
    request = json.load(sys.stdin)
    try:
        import agents  # noqa: F401
    except ImportError as err:
        if (getattr(err, "name", None) or "").split(".")[0] == "agents":
            out.write(json.dumps({"missing": "agents"}))
            return
        answer: dict[str, Any] = {
            "error": f"the OpenAI Agents SDK does not import: {type(err).__name__}: {err}"
        }
    else:
        try:
            result = walk(request["entry"], _load_gen(request["pydantic_gen"]))
            answer = {"ok": json.loads(json.dumps(result, allow_nan=False))}
        except Problem as err:
            answer = {"error": str(err)}
        except ValueError as err:  # NaN or an infinity in a default or a bound
            answer = {"error": f"a schema is not JSON: {err}"}
        except Exception as err:  # the application's own objects misbehaving
            answer = {"error": f"walking the agents failed: {type(err).__name__}: {err}"}
    out.write(json.dumps(answer))
    out.flush()


if __name__ == "__main__":
    _main()
