"""How sure a verdict is: intervals and paired tests over the per-query scores of configurations.

Every configuration of a sweep is scored on the same queries, so two configurations are compared
on their per-query *differences* (a paired comparison): the variation between queries, which is
large (some questions are easy for everyone), cancels out, and far smaller real differences show.

- `intervals`: percentile-bootstrap confidence intervals of means, as `scipy.stats.bootstrap`
  computes them.
- `sign_flip_tests`: the one-sided paired permutation test of "a is better than b on average".
  Under the null hypothesis each per-query difference is as likely to have either sign, so the
  p-value is the share of random sign assignments whose mean difference is at least the one
  observed. With 2**n <= resamples every assignment is enumerated (an exact test). It is
  `scipy.stats.permutation_test(..., permutation_type="samples")` on the differences.

Both are written out in numpy because a sweep needs dozens of each: as matrix products over
all configurations at once they take milliseconds where scipy's one-at-a-time calls took about
0.1 s (an interval) and 1 s (a test) each; tests/test_statistics.py checks that they agree with
scipy.
- `holm`: Holm's step-down correction, so that testing many configurations against the winner
  does not make some of them look significantly worse by chance.

Queries that are not independent (a generator asking several questions of one sentence, people
asking several of one paragraph) carry `groups`: one label a query, equal labels for queries that
go together. Resampling then draws whole groups (a cluster bootstrap, the mean of the drawn
queries) and the test flips the sign of a group's summed difference, since treating them as
independent would make intervals too narrow and p-values too small. Without groups, or with every
label different, both are exactly the per-query methods above.

All randomness comes from a seed, so a rerun gives the same intervals and p-values.
"""

from __future__ import annotations

import itertools
from typing import Any, Sequence

import numpy as np

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


def group_codes(groups: Sequence[Any] | None, n: int) -> np.ndarray | None:
    """Each query's group as an integer 0..G-1, or None when every query is a group of its own."""
    if groups is None:
        return None
    if len(groups) != n:
        raise ValueError(f"groups must give one label a query: {len(groups)} labels for {n} queries")
    first: dict[str, int] = {}  # in order of first appearance: repeated queries draw as the originals would
    codes = np.array([first.setdefault(str(g), len(first)) for g in groups])
    return None if len(first) == n else codes


def group_count(groups: Sequence[Any] | None) -> int | None:
    """How many independent units `groups` makes of its queries (None: every query is its own)."""
    count = None if groups is None else len({str(g) for g in groups})
    return None if count == len(groups or ()) else count


def _group_sums(data: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Each row of `data` summed within each group: rows x groups."""
    sums = np.zeros((data.shape[0], codes.max() + 1))
    np.add.at(sums.T, codes, data.T)
    return sums


def intervals(scores: Sequence[Sequence[float]], resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
              groups: Sequence[Any] | None = None) -> list[tuple[float, float]]:
    """95% percentile-bootstrap confidence interval of the mean of each row of `scores`.

    Every row is resampled with the same queries (a paired bootstrap: row i's and row j's
    intervals come from the same resampled query sets). A resample is a vector of multinomial
    counts over the queries (over the groups, when `groups` is given: a resample's mean is then
    the mean of the queries of the groups drawn), so all rows' resampled means are one matrix product.
    """
    data = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    n = data.shape[1]
    if n == 0:
        raise ValueError("a confidence interval needs at least one value")
    codes = group_codes(groups, n)
    sums, sizes = (data, np.ones(n)) if codes is None else (_group_sums(data, codes), np.bincount(codes).astype(np.float64))
    units = sums.shape[1]
    rng = np.random.default_rng(seed)
    means = np.empty((resamples, data.shape[0]))
    for start in range(0, resamples, _BATCH):
        stop = min(start + _BATCH, resamples)
        counts = rng.multinomial(units, np.full(units, 1 / units), size=stop - start).astype(np.float64)
        means[start:stop] = counts @ sums.T / (counts @ sizes)[:, None]
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail], axis=0)
    # Clip to the data: a mean of equal values has no spread, whatever rounding the product adds.
    low = np.maximum(low, data.min(axis=1))
    high = np.minimum(high, data.max(axis=1))
    return [(float(lo), float(hi)) for lo, hi in zip(low, high)]


def interval(values: Sequence[float], resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
             groups: Sequence[Any] | None = None) -> tuple[float, float]:
    """95% percentile-bootstrap confidence interval of the mean of `values` (resampling queries, or groups)."""
    return intervals([values], resamples, seed, groups)[0]


def sign_flip_tests(best: Sequence[float], others: Sequence[Sequence[float]], resamples: int = DEFAULT_RESAMPLES,
                    seed: int = 0, groups: Sequence[Any] | None = None) -> list[float]:
    """One-sided p-values that `best` scores higher than each row of `others`, on the same queries.

    Small p: `best` is better; identical scores give p = 1. A row with few queries that differ
    (2**differing <= resamples) is tested exactly, by enumerating every sign assignment; the
    others share one set of random sign vectors, so all of them cost one matrix product. With
    `groups`, the units whose signs flip are the groups' summed differences.
    """
    differences = np.asarray(best, dtype=np.float64) - np.atleast_2d(np.asarray(others, dtype=np.float64))
    if differences.ndim != 2 or differences.shape[1] == 0:
        raise ValueError(f"a paired test needs equally long, non-empty score lists, got shape {differences.shape}")
    codes = group_codes(groups, differences.shape[1])
    if codes is not None:
        differences = _group_sums(differences, codes)
    observed = differences.sum(axis=1)
    # Sums within a few ulps of the observed one count as equal (float sums depend on order).
    tolerance = 1e-9 * np.maximum(1.0, np.abs(differences).sum(axis=1))
    pvalues = np.ones(len(differences))
    randomised = []
    for i, d in enumerate(differences):
        d = d[d != 0]  # a zero difference is the same under either sign
        if d.size == 0:
            continue
        if 2 ** d.size <= resamples:
            signs = np.array(list(itertools.product((1.0, -1.0), repeat=d.size)))
            pvalues[i] = np.mean(signs @ d >= observed[i] - tolerance[i])
        else:
            randomised.append(i)
    if randomised:
        rng = np.random.default_rng(seed)
        at_least = np.zeros(len(randomised))
        rows = differences[randomised].T
        for start in range(0, resamples, _BATCH):
            size = min(_BATCH, resamples - start)
            signs = rng.integers(0, 2, size=(size, differences.shape[1])).astype(np.float64) * 2 - 1
            at_least += np.count_nonzero(signs @ rows >= observed[randomised] - tolerance[randomised], axis=0)
        # The observed assignment is one of the possible ones, so p is never 0 (as in scipy).
        pvalues[randomised] = (at_least + 1) / (resamples + 1)
    return [float(p) for p in pvalues]


def sign_flip_test(a: Sequence[float], b: Sequence[float], resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                   groups: Sequence[Any] | None = None) -> float:
    """One-sided p-value that configuration `a` scores higher than `b` on the same queries.

    `a[i]` and `b[i]` are the two configurations' scores on query i. Small p: `a` is better;
    identical scores give p = 1.
    """
    return sign_flip_tests(a, [b], resamples, seed, groups)[0]


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


def paired_gain(a: Sequence[float], b: Sequence[float], resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                groups: Sequence[Any] | None = None) -> dict[str, float]:
    """How much `a` scores above `b` on the same queries: the mean difference, its 95% interval
    (bootstrap over queries, or groups) and the one-sided sign-flip p-value that `a` is better
    ("is the recommendation better than what we have?" is a question with a direction)."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    low, high = interval(d, resamples, seed, groups)
    return {"gain": float(d.mean()), "ci_low": low, "ci_high": high,
            "p": sign_flip_test(a, b, resamples, seed, groups)}
