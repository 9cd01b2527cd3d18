"""Benchmark of the compatibility engine: time per pair, decided rate and wrong answers.

Runs teamrel.compat.check, and beside it (when installed; optional `bench` extras, never runtime
dependencies) jsonschema_rs's canonical algebra (`canonicalize(consumer).covers(producer)`) and
jsonsubschema (`isSubschema(producer, consumer)`), over two sets:

- the 2020-12 containment corpus (../shared/corpora/containment-2020-12.jsonl; skipped when
  absent): every labelled direction, truth = the label corrected by
  tests/unit/compat/corpus_label_errata.json (pairs whose schema is unusable are left out);
  `*/optional/format/*` pairs with format assertion on;
- real-world schemas: check-jsonschema's vendored SchemaStore copies (a test dependency;
  skipped when absent), the labelled pairs of tests/unit/compat/schemastore_corpus.py
  (annotation edits, and narrowing mutations in both directions), unreadable schemas left out;
- large realistic contracts generated here: >= 200 properties, nested arrays of closed objects,
  local `$ref`s, enums, patterns, bounds; identical, narrowed (compatible) and widened
  (incompatible) variants whose truth is known by construction.

Usage: python bench/compat.py [--corpus PATH] [--contracts N] [--engines teamrel,jsonschema_rs,
jsonsubschema] [--limit N] [--json OUT]. Prints a Markdown table (median and p99 milliseconds
per pair, decided rate, wrong answers, crashes) for docs/benchmarks.md. `--phases`: instead,
teamrel's CPU time per phase on the large contracts (reading, proof, confirming + explaining).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import io
import json
import random
import signal
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# bench/ holds scripts named like PyPI modules (bench/regex.py shadows `regex`, which lark, a
# dependency of python-jsonschema's format checkers, imports): never import from it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
CORPUS = REPO.parent / "shared" / "corpora" / "containment-2020-12.jsonl"
ERRATA = REPO / "tests" / "unit" / "compat" / "corpus_label_errata.json"
#: A competitor taking longer than this on one pair is stopped and counted as a crash.
PAIR_TIMEOUT_S = 10


@dataclass(frozen=True)
class Case:
    """One directed pair with its truth."""

    name: str
    producer: Any
    consumer: Any
    truth: bool  # producer ⊆ consumer
    format_assertion: bool = False


@dataclass
class Tally:
    """One engine's results on one set of cases."""

    times: list[float] = field(default_factory=list)
    decided: int = 0
    wrong: int = 0
    crashes: int = 0
    wrong_examples: list[str] = field(default_factory=list)

    def row(self, engine: str, label: str) -> dict[str, Any]:
        n = len(self.times)
        ordered = sorted(self.times)
        p99 = ordered[min(n - 1, int(0.99 * n))] if n else 0.0
        return {
            "engine": engine,
            "set": label,
            "pairs": n,
            "decided_pct": round(100 * self.decided / n, 2) if n else 0.0,
            "wrong": self.wrong,
            "crashes": self.crashes,
            "median_ms": round(1000 * statistics.median(ordered), 3) if n else 0.0,
            "p99_ms": round(1000 * p99, 3),
            "total_s": round(sum(ordered), 2),
        }


# ----------------------------------------------------------------------------- the sets


def corpus_cases(path: Path, limit: int | None) -> list[Case]:
    """Every labelled direction of the corpus, truth corrected by the errata."""
    if not path.is_file():
        return []
    errata = {
        (e["source"], e["id"], e["direction"]): e["truth"]
        for e in json.loads(ERRATA.read_text(encoding="utf-8"))["errata"]
    }
    cases: list[Case] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            fa = "/optional/format/" in row["source"]
            for direction, p, c in (
                ("s1_subset_of_s2", row["schema1"], row["schema2"]),
                ("s2_subset_of_s1", row["schema2"], row["schema1"]),
            ):
                label = row[direction]
                if label is None:
                    continue
                key = (row["source"], row["id"], direction)
                truth = errata.get(key, label)
                if truth is None:
                    continue  # unusable schema: no truth to score against
                cases.append(Case(f"{key[0]}#{key[1]}:{direction}", p, c, truth, fa))
    return cases[:limit] if limit else cases


def schemastore_cases() -> list[Case]:
    """The real-world pairs (tests/unit/compat/schemastore_corpus.py), truth = their label."""
    sys.path.insert(0, str(REPO / "tests" / "unit" / "compat"))
    try:
        from schemastore_corpus import UNUSABLE, pairs
    finally:
        sys.path.pop(0)
    return [
        Case(str(p), p.producer, p.consumer, p.expected == "compatible")
        for p in pairs()
        if p.schema not in UNUSABLE
    ]


def big_contract(rng: random.Random, n_props: int = 220) -> dict[str, Any]:
    """A large closed order/ticket contract with $defs, nested arrays of objects, enums."""
    defs = {
        "money": {"type": "number", "multipleOf": 0.01, "minimum": 0, "maximum": 1_000_000},
        "address": {
            "type": "object",
            "properties": {
                "street": {"type": "string", "maxLength": 200},
                "city": {"type": "string", "minLength": 1, "maxLength": 100},
                "zip": {"type": "string", "pattern": "^[0-9]{5}(-[0-9]{4})?$"},
                "country": {"enum": ["US", "CA", "MX", "FR", "DE"]},
            },
            "required": ["city", "country"],
            "additionalProperties": False,
        },
        "line": {
            "type": "object",
            "properties": {
                "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
                "qty": {"type": "integer", "minimum": 1, "maximum": 999},
                "price": {"$ref": "#/$defs/money"},
                "tags": {
                    "type": "array",
                    "items": {"enum": ["gift", "fragile", "bulk"]},
                    "uniqueItems": True,
                },
                "ship_to": {"$ref": "#/$defs/address"},
            },
            "required": ["sku", "qty", "price"],
            "additionalProperties": False,
        },
    }
    props: dict[str, Any] = {}
    for i in range(n_props):
        kind = i % 8
        name = f"f{i:03d}"
        if kind == 0:
            props[name] = {"type": "string", "maxLength": 64 + i}
        elif kind == 1:
            props[name] = {"enum": [f"v{j}" for j in range(rng.randint(3, 8))]}
        elif kind == 2:
            props[name] = {"type": "integer", "minimum": 0, "maximum": 100 + i}
        elif kind == 3:
            props[name] = {"$ref": "#/$defs/money"}
        elif kind == 4:
            props[name] = {"$ref": "#/$defs/address"}
        elif kind == 5:
            props[name] = {"type": "array", "items": {"$ref": "#/$defs/line"}, "maxItems": 100}
        elif kind == 6:
            props[name] = {"type": ["string", "null"], "format": "email"}
        else:
            props[name] = {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z0-9-]{8,36}$"},
                    "score": {"type": "number", "minimum": 0, "maximum": 1},
                    "history": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "at": {"type": "string", "format": "date-time"},
                                "status": {"enum": ["open", "pending", "closed"]},
                            },
                            "required": ["status"],
                            "additionalProperties": False,
                        },
                    },
                },
                "required": ["id"],
                "additionalProperties": False,
            }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": defs,
        "type": "object",
        "properties": props,
        "required": sorted(props)[: n_props // 2],
        "additionalProperties": False,
    }


def contract_cases(n: int, seed: int = 7) -> list[Case]:
    """n variants of large contracts: identical, narrowed (⊆) and changed-in-one-place (⊄)."""
    rng = random.Random(seed)
    cases: list[Case] = []
    for k in range(n):
        base = big_contract(rng)
        props = base["properties"]
        variant = k % 10
        other = copy.deepcopy(base)
        oprops = other["properties"]
        if variant == 0:
            cases.append(Case(f"contract{k}:identical", base, other, True))
        elif variant == 1:  # producer narrower: tighter bounds, fewer enum values, more required
            oprops["f002"]["maximum"] = 50
            oprops["f001"]["enum"] = oprops["f001"]["enum"][:2]
            other["required"] = sorted(oprops)
            cases.append(Case(f"contract{k}:narrowed", other, base, True))
        elif variant == 2:  # deep enum extended (inside $defs.address, reached via arrays)
            other["$defs"]["address"]["properties"]["country"]["enum"].append("GB")
            cases.append(Case(f"contract{k}:enum-extended", other, base, False))
        elif variant == 3:  # bound relaxed inside nested array of objects
            other["$defs"]["line"]["properties"]["qty"]["maximum"] = 5000
            cases.append(Case(f"contract{k}:bound-relaxed", other, base, False))
        elif variant == 4:  # closed consumer receives a new optional field
            oprops["extra_note"] = {"type": "string"}
            cases.append(Case(f"contract{k}:extra-field", other, base, False))
        elif variant == 5:  # required field made optional upstream
            other["required"] = other["required"][1:]
            cases.append(Case(f"contract{k}:required-removed", other, base, False))
        elif variant == 6:  # pattern widened deep
            line = other["$defs"]["line"]["properties"]
            line["sku"]["pattern"] = "^[A-Z]{3}-[0-9]+$"
            cases.append(Case(f"contract{k}:pattern-widened", other, base, False))
        elif variant == 7:  # nullable added on a nested property
            first_obj = next(name for name in props if "history" in str(props[name]))
            oprops[first_obj]["properties"]["score"] = {"type": ["number", "null"]}
            cases.append(Case(f"contract{k}:nullable-added", other, base, False))
        elif variant == 8:  # the consumer starts to need a dependent field (2019-09 keyword)
            other["dependentRequired"] = {"f000": ["f200"]}
            cases.append(Case(f"contract{k}:dependency-added", base, other, False))
        else:  # the producer stops guaranteeing unique tags inside nested line items
            del other["$defs"]["line"]["properties"]["tags"]["uniqueItems"]
            cases.append(Case(f"contract{k}:unique-items-dropped", other, base, False))
    return cases


#: Untimed pairs run first by every engine (a different seed from the measured contracts).
WARM_UP = [
    Case("warm-up:small", {"type": "integer"}, {"type": "number"}, True),
    *contract_cases(2, seed=999),
]

# ----------------------------------------------------------------------------- the engines


class PairTimeout(BaseException):
    """A competitor exceeded PAIR_TIMEOUT_S on one pair (a BaseException: competitors catch
    Exception broadly and would swallow it)."""


@contextlib.contextmanager
def _limit(seconds: int) -> Iterator[None]:
    def on_alarm(signum: int, frame: Any) -> None:
        raise PairTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


Engine = Callable[[Case], bool | None]  # True ⊆, False ⊄, None unknown; raises on crash


def teamrel_engine() -> Engine:
    from teamrel.compat import check

    def run(case: Case) -> bool | None:
        result = check(case.producer, case.consumer, format_assertion=case.format_assertion)
        return {"compatible": True, "incompatible": False}.get(result.verdict)

    return run


def jsonschema_rs_engine() -> Engine:
    import jsonschema_rs

    def run(case: Case) -> bool | None:
        fa = case.format_assertion
        consumer = jsonschema_rs.canonicalize(case.consumer, validate_formats=fa)
        producer = jsonschema_rs.canonicalize(case.producer, validate_formats=fa)
        answer = str(consumer.covers(producer)).rsplit(".", 1)[-1].lower()
        return {"yes": True, "no": False}.get(answer)

    return run


def jsonsubschema_engine() -> Engine:
    from jsonsubschema import isSubschema

    def run(case: Case) -> bool | None:
        # it mutates its inputs and prints; it answers yes/no only (None is its "no" too)
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            answer = isSubschema(copy.deepcopy(case.producer), copy.deepcopy(case.consumer))
        return bool(answer)

    return run


ENGINES: dict[str, Callable[[], Engine]] = {
    "teamrel": teamrel_engine,
    "jsonschema_rs": jsonschema_rs_engine,
    "jsonsubschema": jsonsubschema_engine,
}


def measure(engine: Engine, cases: list[Case], *, guard: bool, label: str = "") -> Tally:
    """Run every case once; time it; score it against the truth."""
    tally = Tally()
    for i, case in enumerate(cases):
        if i and i % 500 == 0:
            print(f"    {label}: {i}/{len(cases)}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            if guard:
                with _limit(PAIR_TIMEOUT_S):
                    answer = engine(case)
            else:
                answer = engine(case)
        except (Exception, RecursionError, PairTimeout, SystemExit):  # jsonsubschema sys.exit()s
            tally.times.append(time.perf_counter() - started)
            tally.crashes += 1
            continue
        tally.times.append(time.perf_counter() - started)
        if answer is None:
            continue
        tally.decided += 1
        if answer != case.truth:
            tally.wrong += 1
            if len(tally.wrong_examples) < 5:
                tally.wrong_examples.append(case.name)
    return tally


def reference_floor(cases: list[Case]) -> dict[str, Any] | None:
    """What python-jsonschema alone takes to confirm teamrel's witnesses: for every pair
    teamrel finds incompatible, a fresh validator of each side on the witness (`is_valid`
    for the producer, every error for the consumer: what an explained verdict needs).

    Every incompatible verdict must be verified this way, so this is a floor under any
    engine held to that rule, whatever its proof costs.
    """
    try:
        import jsonschema

        from teamrel.compat import check
    except ImportError:
        return None
    times: list[float] = []
    for case in cases:
        result = check(case.producer, case.consumer, format_assertion=case.format_assertion)
        if result.verdict != "incompatible":
            continue
        witness = result.witness
        started = time.perf_counter()
        producer = jsonschema.validators.validator_for(case.producer)(case.producer)
        consumer = jsonschema.validators.validator_for(case.consumer)(case.consumer)
        assert producer.is_valid(witness)
        assert list(consumer.iter_errors(witness))
        times.append(time.perf_counter() - started)
    if not times:
        return None
    ordered = sorted(times)
    return {
        "pairs": len(times),
        "median_ms": round(1000 * statistics.median(ordered), 3),
        "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3),
    }


def phases(cases: list[Case]) -> dict[str, dict[str, float]]:
    """Median CPU milliseconds per phase of teamrel's check, by kind of large-contract pair:
    reading each side, the proof, and (incompatible pairs) confirming the witness with
    python-jsonschema and explaining it. Uses the engine's internals (bench only)."""
    from teamrel.compat import api
    from teamrel.compat.prove import ProofSearch
    from teamrel.compat.result import Budget

    by_kind: dict[str, list[tuple[float, ...]]] = {}
    for case in cases:
        clock = time.process_time
        t0 = clock()
        producer = api._side(case.producer, "producer", case.format_assertion)
        t1 = clock()
        consumer = api._side(case.consumer, "consumer", case.format_assertion)
        t2 = clock()
        run = Budget().start()
        prover = ProofSearch(producer, consumer, run)
        out = prover.goal([producer.root], [consumer.root], 0)
        t3 = clock()
        if not out.ok:
            api._refute(prover, producer, consumer, out, run)
        t4 = clock()
        kind = case.name.split(":", 1)[1]
        by_kind.setdefault(kind, []).append((t1 - t0, t2 - t1, t3 - t2, t4 - t3))
    names = ("read producer", "read consumer", "proof", "confirm + explain")
    return {
        kind: {
            name: round(1000 * statistics.median(t[i] for t in rows), 2)
            for i, name in enumerate(names)
        }
        for kind, rows in by_kind.items()
    }


def per_schema(cases: list[Case]) -> None:
    """teamrel on the real-world pairs, one Markdown row per schema: pairs, decided, wrong,
    the annotation-edit pair (slower direction) and the slowest pair, in milliseconds."""
    from teamrel.compat import check

    for case in WARM_UP:
        check(case.producer, case.consumer)
    rows: dict[str, dict[str, Any]] = {}
    for case in cases:
        schema, kind, _label = case.name.split(":")
        row = rows.setdefault(
            schema, {"pairs": 0, "decided": 0, "wrong": 0, "edit": 0.0, "max": 0.0}
        )
        started = time.perf_counter()
        verdict = check(case.producer, case.consumer).verdict
        ms = 1000 * (time.perf_counter() - started)
        row["pairs"] += 1
        if verdict != "unknown":
            row["decided"] += 1
            row["wrong"] += (verdict == "compatible") != case.truth
        if kind.startswith("annotation"):
            row["edit"] = max(row["edit"], ms)
        row["max"] = max(row["max"], ms)
    print("| schema | pairs | decided | wrong | annotation edit ms | slowest pair ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for schema, r in sorted(rows.items()):
        print(
            f"| {schema.split('/')[-1]} | {r['pairs']} | {r['decided']} | {r['wrong']} "
            f"| {r['edit']:.1f} | {r['max']:.1f} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--contracts", type=int, default=50, help="large contract pairs")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--limit", type=int, default=None, help="first N corpus directions")
    parser.add_argument("--json", type=Path, default=None, help="also write rows as JSON")
    parser.add_argument(
        "--phases", action="store_true", help="only: teamrel's time per phase, large contracts"
    )
    parser.add_argument(
        "--per-schema",
        action="store_true",
        help="only: teamrel on the schemastore pairs, one row per schema",
    )
    args = parser.parse_args(argv)
    if args.phases:
        from teamrel.compat import check

        for case in WARM_UP:
            check(case.producer, case.consumer)
        table = phases(contract_cases(args.contracts))
        cols = list(next(iter(table.values())))
        print("| pair | " + " | ".join(f"{c} ms" for c in cols) + " |")
        print("|---|" + "---:|" * len(cols))
        for kind, row in table.items():
            print(f"| {kind} | " + " | ".join(str(row[c]) for c in cols) + " |")
        return 0

    if args.per_schema:
        per_schema(schemastore_cases())
        return 0

    sets = {
        "corpus": corpus_cases(args.corpus, args.limit),
        "schemastore": schemastore_cases(),
        "large contracts": contract_cases(args.contracts),
    }
    if not sets["schemastore"]:
        print("check-jsonschema not installed: schemastore skipped", file=sys.stderr)
        del sets["schemastore"]
    if not sets["corpus"]:
        print(f"corpus not found at {args.corpus}: skipped", file=sys.stderr)
        del sets["corpus"]
    # the harness's own thousands of case documents stay alive throughout: a full garbage
    # collection landing in a timed pair would scan them all (a pause of tens of ms that no
    # engine causes), so they are moved out of the collector's view
    gc.collect()
    gc.freeze()
    rows: list[dict[str, Any]] = []
    floor: dict[str, Any] | None = None
    notes: list[str] = []
    for name in args.engines.split(","):
        try:
            engine = ENGINES[name]()
        except ImportError:
            print(f"{name} is not installed: skipped", file=sys.stderr)
            continue
        # one untimed run on pairs outside both sets: imports, regex tables, meta-schemas
        measure(engine, WARM_UP, guard=name != "teamrel")
        for label, cases in sets.items():
            tally = measure(engine, cases, guard=name != "teamrel", label=f"{name} / {label}")
            row = tally.row(name, label)
            row["wrong_examples"] = tally.wrong_examples
            rows.append(row)
            if label == "schemastore":
                # the reflexive annotation-edit pairs alone (S vs S with annotations edited)
                edits = [
                    t for c, t in zip(cases, tally.times, strict=True) if ":annotation" in c.name
                ]
                if edits:
                    notes.append(
                        f"{name} / schemastore annotation edits: {len(edits)} pairs, median "
                        f"{1000 * statistics.median(edits):.3f} ms, max {1000 * max(edits):.3f} ms"
                    )
            print(f"  {name} / {label}: done", file=sys.stderr)
        if name == "teamrel":
            # measured here, before the competitors fill the process's heap
            floor = reference_floor(sets["large contracts"])

    print("| engine | set | pairs | decided | wrong | crashes | median ms | p99 ms | total s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['engine']} | {r['set']} | {r['pairs']} | {r['decided_pct']}% | {r['wrong']} "
            f"| {r['crashes']} | {r['median_ms']} | {r['p99_ms']} | {r['total_s']} |"
        )
    if floor is not None:
        print(
            f"\nfloor: python-jsonschema alone confirming teamrel's {floor['pairs']} "
            f"large-contract witnesses (both sides): median {floor['median_ms']} ms, "
            f"p99 {floor['p99_ms']} ms"
        )
        rows.append({"engine": "python-jsonschema (witness only)", **floor})
        large = next(
            (r for r in rows if r["engine"] == "teamrel" and r["set"] == "large contracts"), None
        )
        if large is not None and floor["median_ms"]:
            print(
                f"teamrel large-contract median / floor median = "
                f"{large['median_ms'] / floor['median_ms']:.2f} (target <= 2.5)"
            )
    for note in notes:
        print(note)
    for r in rows:
        if r.get("wrong_examples"):
            print(f"\n{r['engine']} / {r['set']} wrong, e.g.: {', '.join(r['wrong_examples'])}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
