"""Generate a large, realistic teamrel workspace for benchmarks.

    python bench/gen_team.py N M OUTDIR [--tools T] [--families F] [--incompatible K] [--seed S]

writes OUTDIR/teamrel.yaml with N agents (plus T tools) and M handoffs, one prompt file per
agent under prompts/, and contracts under contracts/: a shared `common.json` and, per message
family, a closed `message.json` (what producers send) and `accept.json` (what consumers
accept: the same fields, fewer required, wider enums). Every handoff connects a producer to a
consumer of the same family, so the team is compatible by construction; `--incompatible K`
rewires K handoffs to a consumer of another family (a different required `kind` constant), and
the generator prints their keys. Deterministic for a given seed. The graph is a DAG (edges
only go from lower to higher agent numbers).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from pathlib import Path

MODELS = [
    ("anthropic", "claude-sonnet-4-5-20250929"),
    ("anthropic", "claude-haiku-4-5-20251001"),
    ("anthropic", "claude-opus-4-1-20250805"),
    ("openai", "gpt-4o-2024-08-06"),
    ("openai", "gpt-4.1-2025-04-14"),
    ("openai", "gpt-4.1-mini-2025-04-14"),
]

COMMON = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {
        "TicketId": {"type": "string", "pattern": "^TCK-[0-9]{8}$"},
        "CustomerId": {"type": "string", "pattern": "^CUS-[0-9]{6}$"},
        "Priority": {"enum": ["low", "normal", "high", "urgent"]},
        "Tier": {"enum": ["free", "standard", "premium", "enterprise"]},
        "Money": {
            "type": "object",
            "additionalProperties": False,
            "required": ["amount_cents", "currency"],
            "properties": {
                "amount_cents": {"type": "integer", "minimum": 0},
                "currency": {"enum": ["USD", "EUR", "GBP"]},
            },
        },
        "LineItem": {
            "type": "object",
            "additionalProperties": False,
            "required": ["sku", "quantity", "unit_price_cents"],
            "properties": {
                "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
                "quantity": {"type": "integer", "minimum": 1, "maximum": 1000},
                "unit_price_cents": {"type": "integer", "minimum": 0},
            },
        },
    },
}

EXTRA_FIELDS = [
    ("summary", {"type": "string", "maxLength": 2000}),
    ("customer_id", {"$ref": "../common.json#/$defs/CustomerId"}),
    ("tier", {"$ref": "../common.json#/$defs/Tier"}),
    ("total", {"$ref": "../common.json#/$defs/Money"}),
    ("items", {"type": "array", "items": {"$ref": "../common.json#/$defs/LineItem"}}),
    ("confidence", {"type": "number", "minimum": 0, "maximum": 1}),
    ("tags", {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 20}),
    ("language", {"type": "string", "pattern": "^[a-z]{2}$"}),
    ("retry", {"type": "boolean"}),
    (
        "notes",
        {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["author", "text"],
                "properties": {"author": {"type": "string"}, "text": {"type": "string"}},
            },
        },
    ),
]

PROMPT = """# Agent {i}

You are agent {i} of a generated benchmark team. You receive {fin} messages and produce
{fout} messages. Read the whole input before you answer; never invent identifiers or amounts.

Keep amounts in integer cents and copy ticket ids exactly as received. When you are unsure,
say so in the summary instead of guessing.

Seed {seed}.
"""


def family_schemas(k: int, rng: random.Random) -> tuple[dict[str, object], dict[str, object]]:
    """(message.json, accept.json) of family k: the producer side is narrower."""
    extras = rng.sample(EXTRA_FIELDS, rng.randint(3, 6))
    props: dict[str, object] = {
        "kind": {"const": f"family-{k}"},
        "ticket_id": {"$ref": "../common.json#/$defs/TicketId"},
        "priority": {"enum": ["normal", "high", "urgent"]},
    }
    props.update(dict(extras))
    required = ["kind", "ticket_id", "priority", *[n for n, _ in extras[:2]]]
    message = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"family {k}: message",
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": props,
    }
    accept_props = dict(props)
    accept_props["priority"] = {"$ref": "../common.json#/$defs/Priority"}
    accept = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"family {k}: accepted input",
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "ticket_id"],
        "properties": accept_props,
    }
    return message, accept


def generate(
    n: int,
    m: int,
    out: Path,
    *,
    tools: int = 0,
    families: int | None = None,
    incompatible: int = 0,
    seed: int = 42,
) -> list[str]:
    """Write the workspace; return the keys of the injected incompatible handoffs."""
    rng = random.Random(seed)
    fam = families or max(4, n // 40)
    if out.exists():
        shutil.rmtree(out)
    (out / "contracts").mkdir(parents=True)
    (out / "prompts").mkdir()
    (out / "contracts" / "common.json").write_text(json.dumps(COMMON, indent=1))
    for k in range(fam):
        d = out / "contracts" / f"f{k}"
        d.mkdir()
        message, accept = family_schemas(k, rng)
        (d / "message.json").write_text(json.dumps(message, indent=1))
        (d / "accept.json").write_text(json.dumps(accept, indent=1))
    if tools:
        tool_in = {
            "type": "object",
            "additionalProperties": False,
            "required": ["ticket_id"],
            "properties": {
                "ticket_id": {"$ref": "common.json#/$defs/TicketId"},
                "verbose": {"type": "boolean"},
            },
        }
        tool_out = {
            "type": "object",
            "additionalProperties": False,
            "required": ["found"],
            "properties": {
                "found": {"type": "boolean"},
                "total": {"$ref": "common.json#/$defs/Money"},
            },
        }
        (out / "contracts" / "tool_input.json").write_text(json.dumps(tool_in, indent=1))
        (out / "contracts" / "tool_output.json").write_text(json.dumps(tool_out, indent=1))

    names = [f"agent-{i:05d}" for i in range(n)]
    fin = [rng.randrange(fam) for _ in range(n)]
    fout = [rng.randrange(fam) for _ in range(n)]
    by_in: dict[int, list[int]] = {}
    for i, f in enumerate(fin):
        by_in.setdefault(f, []).append(i)

    edges: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    attempts = 0
    while len(edges) < m and attempts < 200 * max(m, 1):
        attempts += 1
        a = rng.randrange(n - 1) if n > 1 else 0
        cands = by_in.get(fout[a], [])
        if not cands:
            continue
        b = rng.choice(cands)
        if b <= a or (a, b) in seen:
            continue
        seen.add((a, b))
        edges.append((a, b))
    if len(edges) < m:
        raise SystemExit(
            f"could only place {len(edges)} of {m} compatible handoffs; use more agents"
        )

    bad: list[str] = []
    bad_edges: list[tuple[int, int]] = []
    attempts = 0
    while len(bad) < incompatible and attempts < 100000:
        attempts += 1
        a = rng.randrange(n - 1)
        b = rng.randrange(a + 1, n)
        if fin[b] == fout[a] or (a, b) in seen:
            continue
        seen.add((a, b))
        bad_edges.append((a, b))
        bad.append(f"{names[a]}->{names[b]}")

    lines = [
        f"# generated by bench/gen_team.py {n} {m} (seed {seed}); do not edit",
        "team: bench",
        "members:",
    ]
    for i, name in enumerate(names):
        provider, model_id = MODELS[i % len(MODELS)]
        (out / "prompts" / f"{name}.md").write_text(
            PROMPT.format(i=i, fin=f"family-{fin[i]}", fout=f"family-{fout[i]}", seed=seed)
        )
        lines += [
            f"  {name}:",
            f"    version: {1 + i % 3}.{i % 7}.{i % 5}",
            "    model:",
            f"      provider: {provider}",
            f"      id: {model_id}",
            f"      parameters: {{temperature: {(i % 5) / 10}, max_tokens: {1024 * (1 + i % 4)}}}",
            f"    prompt: prompts/{name}.md",
            f"    input: contracts/f{fin[i]}/accept.json",
            f"    output: contracts/f{fout[i]}/message.json",
        ]
        if tools and i % 5 == 0:
            t = f"tool-{i % tools:03d}"
            lines += [
                "    tools:",
                f"      - {{tool: {t}, call: contracts/tool_input.json, "
                "result: contracts/tool_output.json}",
            ]
        lines += [
            "    evals:",
            f"      - {{suite: regression, metrics: {{accuracy: {0.8 + (i % 20) / 100:.2f}}}}}",
        ]
    for t in range(tools):
        lines += [
            f"  tool-{t:03d}:",
            "    kind: tool",
            "    version: 1.0.0",
            "    input_schema: contracts/tool_input.json",
            "    output_schema: contracts/tool_output.json",
        ]
    lines.append("handoffs:")
    for j, (a, b) in enumerate(edges + bad_edges):
        contract = f", contract: contracts/f{fout[a]}/message.json" if j % 2 == 0 else ""
        lines.append(f"  - {{from: {names[a]}, to: {names[b]}{contract}}}")
    lines += [
        "environments:",
        "  staging: {}",
        "  prod: {require_reason: true, allow_incompatible: false}",
    ]
    (out / "teamrel.yaml").write_text("\n".join(lines) + "\n")
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("n", type=int, help="number of agents")
    ap.add_argument("m", type=int, help="number of (compatible) handoffs")
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--tools", type=int, default=0, help="tool members (every 5th agent uses one)")
    ap.add_argument("--families", type=int, default=None, help="message families (default N/40)")
    ap.add_argument("--incompatible", type=int, default=0, help="extra incompatible handoffs")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    bad = generate(
        args.n,
        args.m,
        args.outdir,
        tools=args.tools,
        families=args.families,
        incompatible=args.incompatible,
        seed=args.seed,
    )
    print(f"wrote {args.outdir}: {args.n} agents, {args.tools} tools, {args.m + len(bad)} handoffs")
    for key in bad:
        print(f"incompatible: {key}")


if __name__ == "__main__":
    main()
