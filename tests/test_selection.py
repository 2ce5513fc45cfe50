"""Selection rules: objective first, constraints respected, ties to the cheaper configuration."""

import numpy as np
import pytest

from chunkopt.selection import Constraints, decide, pareto_front, rank
from chunkopt.statistics import holm, sign_flip_test
from strategies.base import ParameterError


def row(name, iou, tokens=500, chunks=100, recall=0.5, p95=1.0, p50=1.0):
    return {"label": name, "iou": iou, "recall": recall, "tokens_per_query": tokens, "n_chunks": chunks,
            "query_ms_p50": p50, "query_ms_p95": p95}


def labels(rows, order):
    return [rows[i]["label"] for i in order]


def test_higher_objective_ranks_first():
    rows = [row("a", 0.1), row("b", 0.3), row("c", 0.2)]
    assert labels(rows, rank(rows, "iou", Constraints())) == ["b", "c", "a"]


def test_any_quality_metric_can_be_the_objective():
    rows = [row("a", 0.3, recall=0.2), row("b", 0.1, recall=0.9)]
    assert labels(rows, rank(rows, "recall", Constraints())) == ["b", "a"]


def test_tie_goes_to_fewer_tokens_per_query():
    rows = [row("big", 0.2, tokens=900), row("small", 0.2, tokens=300)]
    assert labels(rows, rank(rows, "iou", Constraints())) == ["small", "big"]


def test_scores_within_the_tolerance_tie():
    rows = [row("big", 0.20004, tokens=900), row("small", 0.2, tokens=300)]
    assert labels(rows, rank(rows, "iou", Constraints()))[0] == "small"


def test_tie_on_tokens_goes_to_fewer_chunks():
    rows = [row("many", 0.2, chunks=500), row("few", 0.2, chunks=50)]
    assert labels(rows, rank(rows, "iou", Constraints())) == ["few", "many"]


def test_configurations_breaking_a_constraint_rank_after_those_meeting_it():
    rows = [row("slow", 0.9, p95=50.0), row("fast", 0.1, p95=2.0)]
    assert labels(rows, rank(rows, "iou", Constraints(max_query_ms=10))) == ["fast", "slow"]


@pytest.mark.parametrize(
    ("constraints", "broken"),
    [
        (Constraints(max_chunks=99), ["n_chunks 100 > 99"]),
        (Constraints(min_recall=0.6), ["recall 0.500 < 0.6"]),
        (Constraints(max_context_tokens=400), ["tokens_per_query 500 > 400"]),
        (Constraints(max_query_ms=0.5), ["query_ms_p95 1.00 > 0.5"]),
        (Constraints(max_chunks=100, min_recall=0.5, max_context_tokens=500, max_query_ms=1), []),
    ],
)
def test_violations_name_the_metric_and_the_limit(constraints, broken):
    assert constraints.violations(row("x", 0.2)) == broken


def test_negative_limit_is_rejected():
    with pytest.raises(ParameterError, match="max_chunks must be a non-negative number, got -1"):
        Constraints(max_chunks=-1)


def test_unknown_objective_lists_the_metrics():
    with pytest.raises(ParameterError, match="objective must be one of iou, recall"):
        rank([row("a", 0.1)], "speed", Constraints())


def test_pareto_front_keeps_only_undominated_configurations():
    rows = [
        row("best-quality", 0.5, tokens=900, chunks=100),
        row("cheapest", 0.2, tokens=200, chunks=100),
        row("dominated", 0.2, tokens=900, chunks=100),
        row("fewest-chunks", 0.1, tokens=900, chunks=10),
    ]
    assert pareto_front(rows, "iou") == [True, True, False, True]


def test_identical_configurations_are_both_on_the_front():
    assert pareto_front([row("a", 0.3), row("b", 0.3)], "iou") == [True, True]


def test_decide_recommends_the_cheapest_configuration_tied_with_the_top_scorer():
    rows = [row("top", 0.6, tokens=900), row("close", 0.5, tokens=500), row("far", 0.1, tokens=100)]
    scores = [[1, 1, 1, 0, 1, 0] * 2, [1, 1, 0, 0, 1, 0] * 2, [0, 0, 0, 0, 1, 0] * 2]
    decision = decide(rows, scores, "iou", Constraints())
    assert decision.status == "ok" and decision.top == 0
    assert decision.tied == (0, 1) and decision.recommended == 1


def test_decide_holm_corrects_the_p_values_against_the_top_scorer():
    rows = [row("top", 0.9), row("b", 0.5), row("c", 0.4)]
    scores = [[1.0] * 12, [1.0] * 6 + [0.0] * 6, [1.0] * 4 + [0.0] * 8]
    decision = decide(rows, scores, "iou", Constraints())
    raw = [sign_flip_test(scores[0], scores[i]) for i in (1, 2)]
    assert [decision.p_vs_best[1], decision.p_vs_best[2]] == pytest.approx(holm(raw))


def test_decide_without_a_feasible_configuration_recommends_nothing():
    decision = decide([row("a", 0.5)], [[0.5, 0.5]], "iou", Constraints(max_chunks=1))
    assert decision.status == "infeasible" and decision.recommended is None


def test_decide_with_a_best_score_of_zero_recommends_nothing():
    decision = decide([row("a", 0.0), row("b", 0.0)], [[0.0, 0.0], [0.0, 0.0]], "iou", Constraints())
    assert decision.status == "zero" and decision.recommended is None


def test_a_fraction_of_a_token_does_not_outweigh_fewer_chunks():
    rows = [row("fewer-tokens", 0.5, tokens=928.0, chunks=60), row("fewer-chunks", 0.5, tokens=928.3, chunks=46)]
    same = [1, 0, 1, 0, 1, 0]
    assert decide(rows, [same, same], "iou", Constraints()).recommended == 1


def test_decide_never_recommends_a_configuration_significantly_worse_than_the_baseline():
    # The baseline breaks the chunk limit, so it is neither tested nor recommended; "cheap" ties
    # with the top scorer (p 7/64 >= 0.1) but is below the baseline on all 7 queries where they differ (p 1/128).
    rows = [row("top", 0.75, tokens=900), row("cheap", 0.42, tokens=100), row("base", 1.0, tokens=500, chunks=999)]
    top = [1.0] * 9 + [0.0] * 3
    cheap = [1.0] * 4 + [0.0] * 5 + [1.0] + [0.0] * 2
    base = [1.0] * 12
    decision = decide(rows, [top, cheap, base], "iou", Constraints(max_chunks=500), baseline=2, alpha=0.1)
    assert decision.tied == (0, 1)
    assert decision.recommended == 0


def test_when_the_top_scorer_beats_the_baseline_the_recommendation_beats_it_too():
    top = [1.0] * 8 + [0.0] * 4     # beats the baseline on 6 of 6 differing queries: p 1/64, Holm 0.031
    cheap = [1.0] * 5 + [0.0] * 7   # tied with the top (p 1/8), but beats the baseline only 3 to 0 (p 1/8)
    base = [1.0] * 2 + [0.0] * 10
    rows = [row("top", 0.67, tokens=900), row("cheap", 0.42, tokens=100), row("base", 0.17, tokens=500)]
    decision = decide(rows, [top, cheap, base], "iou", Constraints(), baseline=2)
    assert decision.tied == (0, 1)
    assert decision.recommended == 0


def test_on_generated_queries_the_top_scorer_is_recommended_even_over_a_tied_baseline():
    # Ties on generated queries are ties under their sampling noise, not on the users' questions.
    rows = [row("top", 0.6, tokens=900), row("close", 0.5, tokens=500), row("base", 0.55, tokens=700)]
    scores = [[1, 1, 1, 0, 1, 0] * 2, [1, 1, 0, 0, 1, 0] * 2, [1, 1, 1, 0, 0, 0] * 2]
    as_written = decide(rows, scores, "iou", Constraints(), baseline=2)
    generated = decide(rows, scores, "iou", Constraints(), baseline=2, generated=True)
    assert set(as_written.tied) == set(generated.tied) == {0, 1, 2}
    assert (as_written.rule, as_written.recommended) == ("cheapest tie", 2)
    assert (generated.rule, generated.recommended) == ("top scorer", 0)
    assert generated.gain["gain"] == pytest.approx(np.mean(scores[0]) - np.mean(scores[2]))


def test_on_generated_queries_a_baseline_scoring_exactly_as_high_as_the_top_is_kept():
    rows = [row("cheaper", 0.5, tokens=400), row("base", 0.5, tokens=700)]
    same = [1, 0, 1, 0, 1, 0]
    decision = decide(rows, [same, same], "iou", Constraints(), baseline=1, generated=True)
    assert decision.top == 0 and decision.recommended == 1
