"""Contract compatibility engine: prove or refute "producer ⊆ consumer" for JSON Schemas.

Public API (the shared interface; keep it stable): `check`, `compare`, `CompatResult`,
`Problem`, `Evolution`, `Budget`, `ENGINE_VERSION`, `semantic_fingerprint` (what a
schema means, for caches keyed by meaning). See docs/compat.md for the semantics,
the verdicts and the problem-kind vocabulary. The ECMA-262 regex automata live in
`teamrel.compat.regex` (owned separately).
"""

from teamrel.compat.annotations import semantic_fingerprint
from teamrel.compat.api import check, compare
from teamrel.compat.explain import KINDS as PROBLEM_KINDS
from teamrel.compat.result import ENGINE_VERSION, Budget, CompatResult, Evolution, Problem

__all__ = [
    "ENGINE_VERSION",
    "PROBLEM_KINDS",
    "Budget",
    "CompatResult",
    "Evolution",
    "Problem",
    "check",
    "compare",
    "semantic_fingerprint",
]
