"""Choosing the winner: an objective to maximise, constraints to respect, and how sure we are.

Rows are plain dicts (one per configuration, with every metric and cost), so the rules here are
pure functions a reader can check by hand. `rank` orders by the objective; `decide` turns the
per-query scores into a recommendation: the cheapest configuration that the query set cannot
tell apart from the top scorer (paired tests, `chunkopt.statistics`), or the top scorer itself
when the queries were generated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from chunkopt import metrics, statistics
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


def cost(row: Mapping[str, Any]) -> tuple[float, ...]:
    """What a configuration costs, in TIE_BREAK order, for choosing the cheapest of tied ones.

    Tokens per query are compared in whole tokens: a fraction of a token per query saves nothing,
    and should not outweigh fewer chunks or a higher score.
    """
    tokens, chunks, latency = (row[c] for c in TIE_BREAK)
    return (round(tokens), chunks, latency)


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
        return (not feasible, -quantised(row[objective]), *cost(row), i)

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


@dataclass(frozen=True)
class Decision:
    """What a sweep recommends and how sure it is; indices refer to the rows given to `decide`.

    `top` scores highest on the objective among the configurations meeting the constraints;
    `tied` are those not significantly worse than it (`top` included); `recommended` is the
    baseline when it is tied, else the cheapest of them that is significantly better than the
    baseline (never one significantly worse than it); on generated queries, `top` itself (the
    baseline if it scores exactly as high). `rule` says which rule chose: "cheapest tie" or "top
    scorer" (see `decide`). `groups` is how many independent groups the queries form (None: every
    query is independent), what the intervals and tests resampled. `p_vs_best[i]` is the
    Holm-adjusted one-sided p-value that `top` beats row i. `status` is "ok", "infeasible" (no
    configuration meets the constraints) or "zero" (even the best scores 0: nothing to recommend).
    """

    status: str
    objective: str
    alpha: float
    resamples: int
    seed: int
    intervals: list[tuple[float, float]]
    rule: str = "cheapest tie"
    groups: int | None = None
    top: int | None = None
    recommended: int | None = None
    tied: tuple[int, ...] = ()
    p_vs_best: dict[int, float] = field(default_factory=dict)
    baseline: int | None = None
    gain: dict[str, float] | None = None  # recommended minus baseline, see statistics.paired_gain


def decide(
    rows: Sequence[Mapping[str, Any]],
    scores: Sequence[Sequence[float]],
    objective: str,
    constraints: Constraints,
    *,
    baseline: int | None = None,
    alpha: float = statistics.DEFAULT_ALPHA,
    resamples: int = statistics.DEFAULT_RESAMPLES,
    seed: int = 0,
    generated: bool = False,
    groups: Sequence[Any] | None = None,
) -> Decision:
    """The recommendation: the baseline if it ties with the top scorer, else the cheapest tie
    (on generated queries: the top scorer).

    `scores[i]` are row i's per-query values of the objective, every row on the same queries in
    the same order, so configurations are compared pairwise on each query (see
    `chunkopt.statistics`). This is the one-standard-error rule of model selection made paired:
    among the configurations the query set cannot tell apart from the best, take the one that
    costs least (tokens per query, then chunks, then latency). When what the team runs today is
    among them, keep it; when the top scorer beats it, recommend only what beats it too. A
    configuration significantly worse than the baseline is never recommended.

    `groups` labels each query's group (`chunkopt.statistics`): queries that are not independent,
    such as a generator's several questions about one sentence, are resampled together.

    `generated=True` (queries a generator wrote, not the team's): the top scorer, whatever ties
    with it, or the baseline when it scores exactly as high.
    A tie on generated queries is a tie under their sampling noise, not on the questions people
    will ask, which rank the configurations somewhat differently; measured on two benchmarks with
    400 generated queries (bench/README.md, "The recommendation on generated queries"), the
    cheapest tie met both agreement targets in 13 of 24 runs and lost up to 0.059 recall on the
    real questions; the top scorer met them in 19 of 24 and lost up to 0.015 on crowd-written
    questions (0.071 on LLM-written ones); with 1,200 on three data sets, 41 of 72 against 57.
    The tied set, the intervals and the gain over the baseline are still computed and reported.
    """
    check_objective(objective)
    alpha = statistics.check_alpha(alpha)
    resamples = statistics.check_resamples(resamples)
    intervals = statistics.intervals(scores, resamples, seed, groups)
    rule = "top scorer" if generated else "cheapest tie"
    common = dict(objective=objective, alpha=alpha, resamples=resamples, seed=seed, intervals=intervals, baseline=baseline,
                  rule=rule, groups=statistics.group_count(groups))
    feasible = [i for i in rank(rows, objective, constraints) if not constraints.violations(rows[i])]
    if not feasible:
        return Decision(status="infeasible", **common)
    top = feasible[0]
    if rows[top][objective] <= 0:
        return Decision(status="zero", top=top, **common)
    others = feasible[1:]
    raw = statistics.sign_flip_tests(scores[top], [scores[i] for i in others], resamples, seed, groups) if others else []
    p_vs_best = dict(zip(others, statistics.holm(raw)))
    tied = (top, *(i for i in others if p_vs_best[i] >= alpha))
    candidates = list(tied)
    if generated:
        # The top scorer; among configurations with the very same score (TIE_TOLERANCE), the
        # baseline, since nothing at all speaks for re-indexing.
        level = quantised(rows[top][objective])
        same = baseline is not None and baseline in feasible and quantised(rows[baseline][objective]) == level
        candidates = [baseline] if same else [top]
    elif baseline in tied:
        # The burden of proof is on a change: switching means re-chunking and re-indexing, so a
        # baseline the queries cannot tell apart from the best is kept, whatever else ties.
        candidates = [baseline]
    elif baseline is not None and not constraints.violations(rows[baseline]):
        # The top scorer beats the baseline; so must whatever is recommended instead of it.
        candidates = [
            i for i in tied
            if i == top or statistics.sign_flip_test(scores[i], scores[baseline], resamples, seed, groups) < alpha
        ]
    elif baseline is not None:  # a baseline that breaks a constraint cannot be kept, but it is not beaten either
        below = statistics.sign_flip_tests(scores[baseline], [scores[i] for i in tied], resamples, seed, groups)
        candidates = [i for i, p in zip(tied, below) if i == top or p >= alpha]
    recommended = min(candidates, key=lambda i: (*cost(rows[i]), -rows[i][objective], i))
    gain = None
    if baseline is not None:
        gain = statistics.paired_gain(scores[recommended], scores[baseline], resamples, seed, groups)
    return Decision(status="ok", top=top, recommended=recommended, tied=tied, p_vs_best=p_vs_best, gain=gain, **common)
