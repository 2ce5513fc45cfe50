"""The verdict of a sweep in words: what to use, how sure we are, and what it gains over the baseline.

    recommended: recursive chunk_size=256: finds 88.1% of the answer text in a 1,024-token context
    (95% CI 85.4-90.6), 926 tokens per query, 5,208 chunks
    ...

The figures come from `chunkopt.selection.Decision`; this module only phrases them, so the
terminal, the report and the tuned JSON say the same thing.
"""

from __future__ import annotations

from typing import Any, Mapping

MAX_NAMED = 4  # tied configurations named in the verdict; the report lists all of them


def score_phrase(objective: str, value: float, budget: Mapping[str, Any], interval: tuple[float, float] | None = None) -> str:
    """`finds 88.1% of the answer text in a 1,024-token context (95% CI 85.4-90.6)`, or the metric's value."""
    context = (
        f"in the top {budget['top_k']} chunks" if budget.get("top_k") else f"in a {budget['token_budget']:,}-token context"
    )
    if objective == "recall":
        text = f"finds {value:.1%} of the answer text {context}"
        if interval:
            text += f" (95% CI {interval[0] * 100:.1f}-{interval[1] * 100:.1f})"
        return text
    text = f"{objective} {value:.4f} {context}"
    if interval:
        text += f" (95% CI {interval[0]:.4f}-{interval[1]:.4f})"
    return text


def signed(objective: str, value: float) -> str:
    """A difference of the objective: percentage points for recall (`+6.3`), the raw value otherwise."""
    return f"{value * 100:+.1f}" if objective == "recall" else f"{value:+.4f}"


def explain(sweep: Any) -> str:
    """The verdict of a fitted Sweep, a few lines, no markup."""
    decision, objective = sweep.decision_, sweep.objective
    if decision.status == "infeasible":
        closest = sweep.results_[0]
        limits = ", ".join(f"{k}={v:g}" for k, v in sweep.constraints.as_dict().items())
        return (
            f"no configuration satisfies the constraints ({limits}); "
            f"closest: {closest['label']} ({'; '.join(closest['violations'])})"
        )
    if decision.status == "zero":
        budget = sweep.budget
        context = f"top {budget['top_k']} chunks" if budget.get("top_k") else f"{budget['token_budget']:,}-token context"
        return (
            f"no recommendation: every configuration scores 0 on {objective} in a {context} "
            f"(best: {sweep.top_row_['label']}), so the query set cannot tell them apart; "
            "check that the budget holds at least one chunk (raise --token-budget) and that the queries match the documents"
        )
    best, top = sweep.best_row_, sweep.top_row_
    lines = [
        f"recommended: {best['label']}: "
        f"{score_phrase(objective, best[objective], sweep.budget, (best['ci_low'], best['ci_high']))}, "
        f"{best['tokens_per_query']:.0f} tokens per query, {best['n_chunks']:,} chunks"
    ]
    test = f"paired sign-flip test over {sample_phrase(sweep.n_queries_, decision.groups)}, Holm-corrected, alpha {decision.alpha:g}"
    others = [r for r in sweep.tied_ if r["label"] != best["label"]]
    if best is not top:
        why = (
            f"{len(sweep.tied_) - 1} configurations are tied with it, this one included" if best["baseline"]
            else f"this is the cheapest of the {len(sweep.tied_)} tied configurations"
        )
        lines.append(
            f"  the top scorer, {top['label']} ({score_phrase(objective, top[objective], sweep.budget)}), is not "
            f"significantly better ({test}); {why}"
        )
    elif others and decision.rule == "top scorer":
        lines.append(
            f"  it scores highest on the generated queries; {configurations_are(len(others))} tied with it there ({test}), "
            "but a tie on generated queries is not a tie on your users' questions, so the top scorer is recommended, "
            "not the cheapest tie"
        )
    elif others:
        lines.append(f"  it scores highest, and none of the {len(others)} configuration{'s' if len(others) != 1 else ''} "
                     f"tied with it ({test}) costs less")
    else:
        lines.append(f"  it scores highest, and every other configuration scores significantly lower ({test})")
    if others:
        named = ", ".join(r["label"] for r in others[:MAX_NAMED])
        more = f" and {len(others) - MAX_NAMED} more" if len(others) > MAX_NAMED else ""
        lines.append(f"  tied: {named}{more}")
    lines.append("  " + _baseline_line(sweep))
    if sweep.query_generator_ is not None:
        lines.append("  " + _generated_line(sweep))
    return "\n".join(lines)


def configurations_are(n: int) -> str:
    """"1 configuration is", "3 configurations are"."""
    return "1 configuration is" if n == 1 else f"{n} configurations are"


def sample_phrase(n_queries: int, groups: int | None) -> str:
    """What the statistics resampled: "400 queries", or "1,200 queries (336 groups, each resampled
    whole)" when queries that go together (a generator's questions about one sentence) were resampled as one."""
    if groups is None:
        return f"{n_queries:,} queries"
    return f"{n_queries:,} queries ({groups:,} groups, each resampled whole)"


def _generated_line(sweep: Any) -> str:
    """Generated queries rank configurations only as well as the benchmarks showed, for this kind of retriever and budget."""
    from chunkopt.querygen import agreement_line

    line = agreement_line(sweep.query_generator_, sweep.n_queries_, retriever=sweep.retriever,
                          family=sweep.retriever_family, budget=sweep.budget)
    return line + " Real questions with reference spans give a surer answer."


def _baseline_line(sweep: Any) -> str:
    base, decision, objective = sweep.baseline_row_, sweep.decision_, sweep.objective
    if base is None:
        return "no baseline to compare with: give --baseline with the configuration you use today"
    whose = "the default baseline" if sweep.baseline_is_default else "your baseline"
    if base["recommended"] and decision.rule == "top scorer":
        return f"this is {whose}, and it scores highest on the generated queries"
    if base["recommended"]:
        if sweep.baseline_is_default:
            return "this is the default baseline: nothing in the grid is significantly better than it on these queries"
        return "this is your baseline: nothing in the grid is significantly better than it, so keep it"
    gain = decision.gain
    unit = " points" if objective == "recall" else ""
    change = (
        f"{signed(objective, gain['gain'])}{unit} over {whose} {base['label']} "
        f"(95% CI {signed(objective, gain['ci_low'])} to {signed(objective, gain['ci_high'])}, p = {gain['p']:.2g})"
    )
    if gain["p"] < decision.alpha:
        return change
    if decision.rule == "top scorer":
        return (f"{change}: not a significant difference on the generated queries; before re-indexing what works, "
                "check the switch on real questions")
    cheaper = []
    best = sweep.best_row_
    if best["tokens_per_query"] < base["tokens_per_query"]:
        cheaper.append(f"{base['tokens_per_query'] - best['tokens_per_query']:.0f} fewer tokens per query")
    if best["n_chunks"] < base["n_chunks"]:
        cheaper.append(f"{base['n_chunks'] - best['n_chunks']:,} fewer chunks")
    buys = f"; switching buys {' and '.join(cheaper)}" if cheaper else ""
    return f"{change}: not a significant difference, so keeping {base['label']} loses nothing measurable{buys}"
