"""The 2020-12 containment corpus (../shared/corpora/, skipped when absent) against the engine.

Every labelled direction of every pair (s1_subset_of_s2: producer=schema1, consumer=schema2;
s2_subset_of_s1 where not null) must be answered without an exception or a hang, never with a
wrong verdict, and an incompatible verdict must carry a witness that both python-jsonschema and
the spec-faithful oracle confirm, and problems of documented kinds whose instance pointers lie in
the witness. `*/optional/format/*` pairs are compared with format assertion.

The labels were generated, not proven. This file also audits them independently: every
corpus producer is finite (const, enum, anyOf of consts, false), or the pair is reflexive (S/S),
universal (anyOf[S, not S] vs true) or unsatisfiable (allOf[S, not S] vs false), true by
construction when the two branches really are S and not S (where the generator renamed
identifiers or negated only part of S, probe instances look for a counterexample), so the
oracle decides the truth of each label it can judge. Labels that do not hold are recorded,
with reasoning and settling instances, in corpus_label_errata.json; the audit fails on any
unrecorded disagreement and on any erratum its instances do not prove. The decided rate is
asserted (>= 95%) over the directions whose label holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing.exceptions
from compat_oracle import OracleUnsupported, hang_guard, is_valid, witness_problems

from teamrel.errors import SchemaError

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
CORPUS = REPO.parent / "shared" / "corpora" / "containment-2020-12.jsonl"
ERRATA_FILE = HERE / "corpus_label_errata.json"
DECIDED_TARGET = 0.95
#: Wall-clock guard per check, far above the engine's own budget: catches a hang, not slowness.
HANG_SECONDS = 30

#: Formats whose python-jsonschema checker is exact enough to audit labels with.
AUDITABLE_FORMATS = frozenset({"date", "ipv4", "ipv6", "uuid"}) & frozenset(
    jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers
)

pytestmark = pytest.mark.skipif(not CORPUS.is_file(), reason=f"corpus not present at {CORPUS}")

Key = tuple[str, int, str]


def _rows() -> list[dict[str, Any]]:
    if not CORPUS.is_file():
        return []
    with CORPUS.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


ROWS = _rows()
ERRATA: dict[Key, dict[str, Any]] = {
    (e["source"], e["id"], e["direction"]): e
    for e in json.loads(ERRATA_FILE.read_text(encoding="utf-8"))["errata"]
}
SOURCES = sorted({r["source"] for r in ROWS})


def directions(row: dict[str, Any]) -> Iterator[tuple[str, Any, Any, bool]]:
    """(direction, producer, consumer, label) for each labelled direction of a row."""
    yield "s1_subset_of_s2", row["schema1"], row["schema2"], row["s1_subset_of_s2"]
    if row["s2_subset_of_s1"] is not None:
        yield "s2_subset_of_s1", row["schema2"], row["schema1"], row["s2_subset_of_s1"]


def format_assertion(source: str) -> bool:
    return "/optional/format/" in source


def truth(key: Key, label: bool) -> bool | None:
    """The label, unless an erratum (proven by test_erratum_is_proven) corrects it; None for a
    pair whose schema is unusable (containment undefined)."""
    erratum = ERRATA.get(key)
    return erratum["truth"] if erratum else label


_ANSWERS: dict[Key, Any] = {}


def answer(key: Key, producer: Any, consumer: Any) -> Any:
    """The engine's CompatResult for one direction (memoised across tests), or the exception."""
    if key not in _ANSWERS:
        from teamrel.compat import check

        try:
            with hang_guard(HANG_SECONDS):
                _ANSWERS[key] = check(producer, consumer, format_assertion=format_assertion(key[0]))
        except Exception as err:  # every exception is a failure of the pair; keep it to report
            _ANSWERS[key] = err
    return _ANSWERS[key]


def failures_of(row: dict[str, Any]) -> list[str]:
    """Everything wrong with the engine's answers on one row."""
    out: list[str] = []
    for direction, producer, consumer, label in directions(row):
        key = (row["source"], row["id"], direction)
        where = f"{row['source']} id {row['id']} {direction}"
        result = answer(key, producer, consumer)
        expected = truth(key, label)
        if expected is None:  # unusable schema: SchemaError or unknown, never a verdict
            if isinstance(result, SchemaError) or (
                not isinstance(result, BaseException) and result.verdict == "unknown"
            ):
                continue
            out.append(f"{where}: unusable schema answered with {result!r}")
            continue
        if isinstance(result, BaseException):
            out.append(f"{where}: raised {type(result).__name__}: {result}")
            continue
        if result.verdict == "unknown":
            if not result.reason:
                out.append(f"{where}: unknown without a reason")
            continue
        verdict = "compatible" if expected else "incompatible"
        if result.verdict != verdict:
            out.append(f"{where}: WRONG VERDICT {result.verdict}, truth {verdict}")
        if result.verdict == "incompatible":
            if not result.has_witness:
                out.append(f"{where}: incompatible without a witness")
                continue
            problems = witness_problems(
                producer, consumer, result.witness, format_assertion=format_assertion(key[0])
            )
            out.extend(f"{where}: witness {json.dumps(result.witness)}: {p}" for p in problems)
            out.extend(f"{where}: {p}" for p in explanation_failures(result))
    return out


def explanation_failures(result: Any) -> list[str]:
    """What is missing from an incompatible answer's problems (kinds, pointers, sides)."""
    from teamrel.compat import PROBLEM_KINDS

    out: list[str] = []
    if not result.problems:
        out.append("incompatible without problems")
    for problem in result.problems:
        if problem.kind not in PROBLEM_KINDS:
            out.append(f"undocumented problem kind {problem.kind!r}")
        if not _in_witness(result.witness, problem.instance_pointer):
            out.append(f"instance pointer {problem.instance_pointer!r} not in the witness")
        if problem.producer_location.startswith("consumer#") or "#" not in (
            problem.producer_location
        ):
            out.append(f"producer location {problem.producer_location!r}")
        if problem.consumer_location.startswith("producer#") or "#" not in (
            problem.consumer_location
        ):
            out.append(f"consumer location {problem.consumer_location!r}")
    return out


def _in_witness(document: Any, pointer: str) -> bool:
    node = document
    for raw in pointer.split("/")[1:] if pointer else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


@pytest.mark.parametrize("source", SOURCES)
def test_corpus_source(source: str) -> None:
    failures: list[str] = []
    for row in ROWS:
        if row["source"] == source:
            failures.extend(failures_of(row))
    assert not failures, "\n".join(failures)


def test_corpus_decided_rate() -> None:
    total = decided = wrong = 0
    by_source: dict[str, int] = {}
    for row in ROWS:
        wrong += sum("WRONG VERDICT" in f for f in failures_of(row))
        for direction, producer, consumer, _label in directions(row):
            key = (row["source"], row["id"], direction)
            if key in ERRATA:
                continue  # the label does not hold: not in the denominator
            total += 1
            result = answer(key, producer, consumer)
            if not isinstance(result, BaseException) and result.verdict != "unknown":
                decided += 1
            else:
                by_source[row["source"]] = by_source.get(row["source"], 0) + 1
    rate = decided / total
    worst = sorted(by_source.items(), key=lambda kv: -kv[1])[:15]
    print(
        f"\ncorpus: {len(ROWS)} pairs, {total} labelled directions whose label holds, "
        f"decided {rate:.2%}, wrong {wrong}, errata {len(ERRATA)}; most undecided: {worst}"
    )
    assert wrong == 0
    assert rate >= DECIDED_TARGET, f"decided {rate:.2%} < 95%; undecided by source: {worst}"


# ----------------------------------------------------------------------------- label audit


def _finite_values(schema: Any) -> list[Any] | None:
    if schema is False:
        return []
    if isinstance(schema, dict):
        if set(schema) == {"const"}:
            return [schema["const"]]
        if set(schema) == {"enum"}:
            return list(schema["enum"])
        branches = schema.get("anyOf")
        if set(schema) == {"anyOf"} and all(
            isinstance(b, dict) and set(b) == {"const"} for b in branches
        ):
            return [b["const"] for b in branches]
    return None


#: Instances tried against universal/unsatisfiable pairs whose two branches are not exactly
#: S and {"not": S} (the generator renamed identifiers or negated only part of S).
PROBES: list[Any] = [None, True, 0, 1.5, "", "a", [], [None], [1, 2, 3], {}, {"foo": 1}]


def oracle_truth(source: str, direction: str, producer: Any, consumer: Any) -> bool | None:
    """The truth of producer ⊆ consumer per the spec-faithful oracle, None if it cannot judge."""
    category = source.split("/")[0]
    if category == "reflexive":
        return True
    if category in ("universal", "unsatisfiable"):
        trivial = (category, direction) in (
            ("universal", "s1_subset_of_s2"),  # X ⊆ true
            ("unsatisfiable", "s2_subset_of_s1"),  # false ⊆ X
        )
        if trivial:
            return True
        composite = consumer if category == "universal" else producer
        branches = composite.get("anyOf" if category == "universal" else "allOf")
        if branches[1] == {"not": branches[0]}:
            return True  # anyOf[S, not S] ≡ true; allOf[S, not S] ≡ false
        try:
            if any(not witness_problems(producer, consumer, v) for v in PROBES):
                return False
        except OracleUnsupported:
            pass
        return None
    values = _finite_values(producer)
    if values is None:
        return None
    if format_assertion(source) and Path(source).stem not in AUDITABLE_FORMATS:
        return None  # python-jsonschema has no exact checker for this format here
    try:
        return all(is_valid(consumer, v, format_assertion=format_assertion(source)) for v in values)
    except OracleUnsupported:
        return None


def test_labels_audited() -> None:
    """Every label the oracle can judge agrees with it, or is a recorded erratum."""
    unrecorded: list[str] = []
    judged = 0
    for row in ROWS:
        for direction, producer, consumer, label in directions(row):
            key = (row["source"], row["id"], direction)
            found = oracle_truth(row["source"], direction, producer, consumer)
            if found is None or (key in ERRATA and ERRATA[key]["truth"] is None):
                continue
            judged += 1
            if found != truth(key, label):
                unrecorded.append(f"{key}: label {label}, oracle {found}")
    print(f"\nlabel audit: {judged} directions judged by the oracle, {len(ERRATA)} errata")
    assert judged > 0.8 * sum(1 for r in ROWS for _ in directions(r))
    assert not unrecorded, "\n".join(unrecorded)


@pytest.mark.parametrize("key", sorted(ERRATA), ids=lambda k: f"{k[0]}#{k[1]}:{k[2]}")
def test_erratum_is_proven(key: Key) -> None:
    erratum = ERRATA[key]
    row = next(r for r in ROWS if (r["source"], r["id"]) == key[:2])
    producer, consumer = (
        (row["schema1"], row["schema2"])
        if key[2] == "s1_subset_of_s2"
        else (row["schema2"], row["schema1"])
    )
    assert row[key[2]] == erratum["label"] != erratum["truth"]
    assert erratum["label"] is not None
    assert erratum["reasoning"].strip()
    fa = format_assertion(key[0])
    instances = erratum["instances"]
    if erratum["settles"] == "invalid-schema":
        assert erratum["truth"] is None
        broken = row["schema1"]
        with pytest.raises(OracleUnsupported) as info:
            is_valid(broken, instances[0], format_assertion=fa)
        # by the exception's type: its repr is the referencing library's, and changes with it
        assert isinstance(info.value.__cause__, referencing.exceptions.Unresolvable)
    elif erratum["settles"] == "not-contained":
        assert erratum["truth"] is False
        (witness,) = instances
        assert is_valid(producer, witness, format_assertion=fa)
        assert not is_valid(consumer, witness, format_assertion=fa)
        # also the reference validator exactly as the issue names it, unless it departs from
        # ECMA-262 there (Unicode-aware \w and \d in Python's re)
        if "ECMA-262" not in erratum["reasoning"]:
            assert not witness_problems(producer, consumer, witness, format_assertion=fa)
    else:
        assert erratum["settles"] == "contained" and erratum["truth"] is True
        values = _finite_values(producer)
        assert values is not None and len(values) == len(instances)
        assert all(v in instances for v in values)
        assert all(is_valid(consumer, v, format_assertion=fa) for v in instances)
