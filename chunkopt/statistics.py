"""How sure a verdict is: intervals and paired tests over the per-query scores of configurations.

Every configuration of a sweep is scored on the same queries, so two configurations are compared
on their per-query *differences* (a paired comparison): the variation between queries, which is
large (some questions are easy for everyone), cancels out, and far smaller real differences show.

- `interval`: a percentile bootstrap confidence interval of a mean (`scipy.stats.bootstrap`).
- `sign_flip_test`: the one-sided paired permutation test of "a is better than b on average".
  Under the null hypothesis each per-query difference is as likely to have either sign, so the
  p-value is the share of random sign assignments whose mean difference is at least the one
  observed. With 2**n <= resamples every assignment is enumerated (an exact test). It is
  `scipy.stats.permutation_test(..., permutation_type="samples")` on the differences, written out
  in numpy because a sweep runs dozens of them and scipy's takes about a second each
  (tests/test_statistics.py checks the two agree).
- `holm`: Holm's step-down correction, so that testing many configurations against the winner
  does not make some of them look significantly worse by chance.

All randomness comes from a seed, so a rerun gives the same intervals and p-values.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Sequence

import numpy as np
from scipy import stats

from strategies.base import ParameterError

DEFAULT_ALPHA = 0.05
DEFAULT_RESAMPLES = 10_000
CONFIDENCE = 0.95
_BATCH = 1_000  # resamples drawn at a time, so memory stays near BATCH x queries whatever the count


def check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ParameterError(f"alpha must be a significance level strictly between 0 and 1 (e.g. 0.05), got {alpha!r}")
    return float(alpha)


def check_resamples(resamples: int) -> int:
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) or resamples < 100:
        raise ParameterError(f"resamples must be an integer of at least 100 (e.g. 10000), got {resamples!r}")
    return int(resamples)


def interval(values: Sequence[float], resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """95% percentile-bootstrap confidence interval of the mean of `values` (resampling queries)."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        raise ValueError("a confidence interval needs at least one value")
    if data.size == 1 or np.all(data == data[0]):
        return float(data[0]), float(data[0])  # every resample has the same mean
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.bootstrap(
            (data,), _mean, n_resamples=resamples, confidence_level=CONFIDENCE, method="percentile",
            vectorized=True, batch=_BATCH, random_state=np.random.default_rng(seed),
        )
    ci = result.confidence_interval
    return float(ci.low), float(ci.high)


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


def sign_flip_test(a: Sequence[float], b: Sequence[float], resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> float:
    """One-sided p-value that configuration `a` scores higher than `b` on the same queries.

    `a[i]` and `b[i]` are the two configurations' scores on query i. Small p: `a` is better;
    identical scores give p = 1.
    """
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if d.ndim != 1 or d.size == 0:
        raise ValueError(f"a paired test needs two equally long, non-empty score lists, got shape {d.shape}")
    d = d[d != 0]  # a zero difference is the same under either sign
    if d.size == 0:
        return 1.0
    observed = d.sum()
    # Sums within a few ulps of the observed one count as equal (float sums depend on order).
    tolerance = 1e-9 * max(1.0, float(np.abs(d).sum()))
    if 2 ** d.size <= resamples:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=d.size)))
        return float(np.mean(signs @ d >= observed - tolerance))
    rng = np.random.default_rng(seed)
    at_least, drawn = 0, 0
    while drawn < resamples:
        n = min(_BATCH, resamples - drawn)
        signs = rng.integers(0, 2, size=(n, d.size), dtype=np.int8) * 2 - 1
        at_least += int(np.count_nonzero(signs @ d >= observed - tolerance))
        drawn += n
    # The observed assignment is one of the possible ones, so p is never 0 (as in scipy).
    return (at_least + 1) / (resamples + 1)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the input order: reject where the adjusted value is below alpha.

    The smallest of m p-values is multiplied by m, the next by m - 1, and so on, each kept at
    least as large as the one before and at most 1; this controls the chance of calling any
    configuration significantly different when none is.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for position, i in enumerate(order):
        running = max(running, min(1.0, (m - position) * p[i]))
        adjusted[i] = running
    return [float(x) for x in adjusted]


def paired_gain(a: Sequence[float], b: Sequence[float], resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> dict[str, float]:
    """How much `a` scores above `b` on the same queries: the mean difference, its 95% interval
    (bootstrap over queries) and the two-sided sign-flip p-value."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    low, high = interval(d, resamples, seed)
    one_sided = min(sign_flip_test(a, b, resamples, seed), sign_flip_test(b, a, resamples, seed))
    return {"gain": float(d.mean()), "ci_low": low, "ci_high": high, "p": min(1.0, 2 * one_sided)}
