"""Intervals and paired tests: exact answers on small hand-made per-query tables."""

import numpy as np
import pytest
from scipy import stats

from chunkopt import statistics
from chunkopt.statistics import (
    check_alpha,
    check_resamples,
    holm,
    interval,
    intervals,
    paired_gain,
    sign_flip_test,
    sign_flip_tests,
)
from strategies.base import ParameterError


def test_identical_configurations_are_not_different():
    scores = [0.2, 0.9, 0.0, 1.0, 0.5]
    assert sign_flip_test(scores, scores) == 1.0


def test_better_on_every_one_of_ten_queries_has_the_exact_p_of_one_in_1024():
    a = [0.9, 0.8, 0.7, 1.0, 0.6, 0.9, 0.8, 0.7, 1.0, 0.6]
    b = [x - 0.1 for x in a]
    # Only the observed signs (all positive) reach the observed mean: 1 of 2**10 assignments.
    assert sign_flip_test(a, b) == pytest.approx(1 / 1024)


def test_a_test_is_one_sided():
    a = [1.0] * 10
    b = [0.0] * 10
    assert sign_flip_test(a, b) < 0.01
    assert sign_flip_test(b, a) == 1.0


def test_queries_with_equal_scores_do_not_count():
    # Three differences of +0.5 and seven zeros: 1 of the 8 sign patterns of the non-zero ones.
    a = [1.0, 1.0, 1.0] + [0.3] * 7
    b = [0.5, 0.5, 0.5] + [0.3] * 7
    assert sign_flip_test(a, b) == pytest.approx(1 / 8)


def test_exact_test_matches_scipy_permutation_test():
    rng = np.random.default_rng(3)
    a, b = rng.uniform(size=12), rng.uniform(size=12)
    expected = stats.permutation_test(
        (a - b,), np.mean, permutation_type="samples", alternative="greater", n_resamples=10_000
    ).pvalue
    assert sign_flip_test(a, b) == pytest.approx(expected)


def test_randomised_test_agrees_with_scipy_within_sampling_error():
    rng = np.random.default_rng(4)
    a = rng.uniform(size=200)
    b = a - rng.normal(0.02, 0.2, size=200)
    expected = stats.permutation_test(
        (a - b,), lambda x, axis: np.mean(x, axis=axis), permutation_type="samples", alternative="greater",
        n_resamples=20_000, vectorized=True, random_state=0,
    ).pvalue
    assert sign_flip_test(a, b, resamples=20_000) == pytest.approx(expected, abs=0.01)


def test_the_same_seed_gives_the_same_p_value():
    rng = np.random.default_rng(5)
    a, b = rng.uniform(size=100), rng.uniform(size=100)
    assert sign_flip_test(a, b, seed=7) == sign_flip_test(a, b, seed=7)


def test_holm_on_a_known_example():
    # Sorted p 0.01, 0.02, 0.03, 0.04 times 4, 3, 2, 1 -> 0.04, 0.06, 0.06 (kept monotone), 0.06.
    assert holm([0.03, 0.01, 0.04, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])


def test_holm_caps_at_one():
    assert holm([0.5, 0.9]) == [1.0, 1.0]


def test_interval_holds_the_mean_and_is_reproducible():
    values = np.random.default_rng(6).uniform(size=300)
    low, high = interval(values, seed=1)
    assert low < values.mean() < high
    assert (low, high) == interval(values, seed=1)
    # Close to the normal approximation, mean +- 1.96 standard errors.
    half = 1.96 * values.std(ddof=1) / np.sqrt(values.size)
    assert high - low == pytest.approx(2 * half, rel=0.1)


def test_interval_agrees_with_scipy_bootstrap():
    values = np.random.default_rng(8).uniform(size=300)
    expected = stats.bootstrap((values,), np.mean, n_resamples=20_000, method="percentile", random_state=0).confidence_interval
    low, high = interval(values, resamples=20_000)
    assert (low, high) == pytest.approx((expected.low, expected.high), abs=0.003)


def test_intervals_of_many_rows_are_those_of_each_row_alone():
    rows = np.random.default_rng(9).uniform(size=(3, 80))
    together = intervals(rows, seed=2)
    assert together[1] == pytest.approx(interval(rows[1], seed=2), abs=0.01)
    assert all(lo < row.mean() < hi for (lo, hi), row in zip(together, rows))


def test_many_tests_at_once_give_each_test_alone():
    rng = np.random.default_rng(10)
    best = rng.uniform(size=60)
    others = [best - rng.normal(0.05, 0.2, size=60), best.copy(), np.where(np.arange(60) < 5, best - 0.1, best)]
    together = sign_flip_tests(best, others)
    assert together[1] == 1.0  # identical
    assert together[2] == pytest.approx(1 / 32)  # five queries differ, all in favour of best: exact
    assert together[0] == pytest.approx(sign_flip_test(best, others[0]), abs=0.01)


def test_interval_of_constant_scores_is_a_point():
    assert interval([0.0] * 50) == (0.0, 0.0)


def test_paired_gain_reports_the_mean_difference_with_interval_and_p():
    a = [0.9, 0.8, 0.7, 1.0, 0.6, 0.9, 0.8, 0.7, 1.0, 0.6, 0.5, 0.9]
    b = [x - 0.1 for x in a]
    gain = paired_gain(a, b)
    assert gain["gain"] == pytest.approx(0.1)
    assert gain["ci_low"] == pytest.approx(0.1) and gain["ci_high"] == pytest.approx(0.1)
    assert gain["p"] == pytest.approx(1 / 4096)  # one-sided: a is better


@pytest.mark.parametrize("alpha", [0, 1, 1.5, -0.1, True])
def test_alpha_outside_zero_one_is_refused(alpha):
    with pytest.raises(ParameterError, match="alpha must be a significance level strictly between 0 and 1"):
        check_alpha(alpha)


@pytest.mark.parametrize("resamples", [-1, 0, 99, 1.5])
def test_too_few_resamples_are_refused(resamples):
    with pytest.raises(ParameterError, match="resamples must be an integer of at least 100"):
        check_resamples(resamples)


def test_a_group_repeated_counts_once_in_an_interval():
    values = np.random.default_rng(3).random(60)
    tripled, groups = np.repeat(values, 3), np.repeat(np.arange(60), 3)
    assert statistics.interval(tripled, groups=groups) == pytest.approx(statistics.interval(values), abs=1e-12)
    width = lambda interval: interval[1] - interval[0]  # noqa: E731
    assert width(statistics.interval(tripled)) < width(statistics.interval(values))  # counted as independent: too narrow


def test_a_group_repeated_counts_once_in_a_sign_flip_test():
    rng = np.random.default_rng(4)
    a, b = rng.random(40), rng.random(40)
    groups = np.repeat(np.arange(40), 3)
    grouped = statistics.sign_flip_test(np.repeat(a, 3), np.repeat(b, 3), groups=groups)
    assert grouped == statistics.sign_flip_test(a, b)


def test_every_query_its_own_group_is_the_per_query_method():
    rng = np.random.default_rng(5)
    a, b = rng.random(50), rng.random(50)
    labels = [f"q{i}" for i in range(50)]
    assert statistics.intervals([a, b], groups=labels) == statistics.intervals([a, b])
    assert statistics.paired_gain(a, b, groups=labels) == statistics.paired_gain(a, b)


def test_an_interval_over_groups_is_the_mean_of_the_queries_drawn():
    # Two groups: a resample drawing the lone 0 twice (chance 1/4) has mean 0, so the interval
    # reaches 0; resampling the four queries alone, a mean of 0 has chance 1/256 and it stops at 0.25.
    scores = [1.0, 1.0, 1.0, 0.0]
    assert statistics.interval(scores, groups=["a", "a", "a", "b"]) == (0.0, 1.0)
    assert statistics.interval(scores) == (0.25, 1.0)


def test_groups_must_label_every_query():
    with pytest.raises(ValueError, match="one label a query"):
        statistics.interval([0.1, 0.2, 0.3], groups=["a", "b"])
