"""The subset prover, split by concern: is every value valid under Γ (producer) valid under Δ?

`core` holds the `ProofSearch` (goals, co-inductive `$ref` handling, budgets, the dispatch by
type); each other module decides one concern and says in its docstring what it leaves as
unknown. docs/compat.md has the map.
"""

from teamrel.compat.prove.core import ProofSearch
from teamrel.compat.prove.terms import Cand, Outcome, fail

__all__ = ["Cand", "Outcome", "ProofSearch", "fail"]
