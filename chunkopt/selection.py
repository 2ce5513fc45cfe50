"""Choosing the winner: an objective to maximise, constraints to respect, cost to break ties.

Rows are plain dicts (one per configuration, with every metric and cost), so the rules here are
pure functions a reader can check by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from chunkopt import metrics
from strategies.base import ParameterError

QUALITY_METRICS = (
    "iou",
    "recall",
    "precision",
    "precision_omega",
    "hit_rate",
    "mrr",
    "iou_tokens",
    "recall_tokens",
    "precision_tokens",
)
COST_METRICS = metrics.COSTS
# Cheaper first: what a tie is decided on, in order. Context tokens are paid on every query,
# chunks once per index; latency is the noisiest measurement, so it comes last.
TIE_BREAK = ("tokens_per_query", "n_chunks", "query_ms_p50")
# Two objective values closer than this are a tie (differences below it are noise on real query sets).
TIE_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Constraints:
    """Limits a winner must respect; None means no limit."""

    max_query_ms: float | None = None  # on the p95 query latency, milliseconds
    max_chunks: int | None = None
    min_recall: float | None = None
    max_context_tokens: float | None = None  # on the mean tokens returned per query

    def __post_init__(self) -> None:
        for name in ("max_query_ms", "max_chunks", "min_recall", "max_context_tokens"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                raise ParameterError(f"{name} must be a non-negative number, got {value!r}")
        if self.min_recall is not None and self.min_recall > 1:
            raise ParameterError(f"min_recall must be between 0 and 1, got {self.min_recall!r}")

    def as_dict(self) -> dict[str, float]:
        """The limits that are set, by name (what the tuned JSON records)."""
        return {k: v for k, v in vars(self).items() if v is not None}

    def violations(self, row: Mapping[str, Any]) -> list[str]:
        """What `row` breaks, in words; empty when it satisfies every limit."""
        broken = []
        if self.max_query_ms is not None and row["query_ms_p95"] > self.max_query_ms:
            broken.append(f"query_ms_p95 {row['query_ms_p95']:.2f} > {self.max_query_ms:g}")
        if self.max_chunks is not None and row["n_chunks"] > self.max_chunks:
            broken.append(f"n_chunks {row['n_chunks']} > {self.max_chunks}")
        if self.min_recall is not None and row["recall"] < self.min_recall:
            broken.append(f"recall {row['recall']:.3f} < {self.min_recall:g}")
        if self.max_context_tokens is not None and row["tokens_per_query"] > self.max_context_tokens:
            broken.append(f"tokens_per_query {row['tokens_per_query']:.0f} > {self.max_context_tokens:g}")
        return broken


def check_objective(objective: str) -> str:
    if objective not in QUALITY_METRICS:
        raise ParameterError(f"objective must be one of {', '.join(QUALITY_METRICS)}, got {objective!r}")
    return objective


def quantised(score: float) -> int:
    """The objective on the grid of TIE_TOLERANCE: equal values here are a tie."""
    return round(score / TIE_TOLERANCE)


def rank(rows: Sequence[Mapping[str, Any]], objective: str, constraints: Constraints) -> list[int]:
    """Indices of `rows` best first: feasible before infeasible, then objective, then cheaper."""
    check_objective(objective)

    def order(i: int) -> tuple:
        row = rows[i]
        feasible = not constraints.violations(row)
        # Near-equal scores tie, and then the cheaper configuration wins.
        return (not feasible, -quantised(row[objective]), *(row[c] for c in TIE_BREAK), i)

    return sorted(range(len(rows)), key=order)


def pareto_front(rows: Sequence[Mapping[str, Any]], objective: str) -> list[bool]:
    """For each row, whether no other row is at least as good on the objective and on both
    costs (tokens per query and number of chunks) and strictly better on one."""
    flags = []
    for i, a in enumerate(rows):
        dominated = False
        for j, b in enumerate(rows):
            if i == j:
                continue
            no_worse = (
                b[objective] >= a[objective]
                and b["tokens_per_query"] <= a["tokens_per_query"]
                and b["n_chunks"] <= a["n_chunks"]
            )
            better = (
                b[objective] > a[objective]
                or b["tokens_per_query"] < a["tokens_per_query"]
                or b["n_chunks"] < a["n_chunks"]
            )
            if no_worse and better:
                dominated = True
                break
        flags.append(not dominated)
    return flags
