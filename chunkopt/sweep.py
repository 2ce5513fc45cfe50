"""Many configurations → ranked results and the best chunker, in the manner of GridSearchCV.

    sweep = Sweep(grid, retriever="bm25", token_budget=1024).fit(corpus, queries)
    sweep.results_        # one plain dict per configuration: every metric, cost and budget-curve point
    sweep.best_config_    # the recommendation: {"strategy": ..., "params": {...}}
    sweep.best_chunker_   # a ready chunker
    sweep.explain()       # the verdict, with its confidence and the gain over the baseline

The recommendation is the cheapest configuration that is not significantly worse than the top
scorer on the same queries, or the baseline when it is one of those; on generated queries (made
by the sweep, or read from a file that names its generator), the top scorer
(`chunkopt.selection.decide`). The objective is recall at the token budget by default: did the
model get to see the answer.

Work shared between configurations is done once per process: each document's tokens, sentence
splits and sentence embeddings are cached by the strategies, so a 48-configuration sweep costs
far less than 48 single runs. With a checkpoint folder, every finished configuration is appended
to a JSON Lines journal as it completes, and a rerun with the same corpus, queries and
evaluation settings skips the configurations already there.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
from joblib import Parallel, delayed
from joblib.parallel import LokyBackend, get_active_backend

import chunkopt
import strategies
from chunkopt import statistics
from chunkopt.claims import Claims
from chunkopt.corpus import Corpus
from chunkopt.evaluation import METRICS, budget_curve, check_budget, curve_points, evaluate
from chunkopt.grid import Configuration, default_grid, expand, parse_configuration
from chunkopt.queries import Query, queries_hash, query_groups
from chunkopt.querygen import misleads
from chunkopt.retrievers import Retriever, fresh_retriever, retriever_family
from chunkopt.selection import Constraints, Decision, check_objective, decide, pareto_front, rank
from chunkopt.workers import watch_parent
from strategies.base import ParameterError, Strategy
from strategies.tokens import DEFAULT_ENCODING

ProgressCallback = Callable[[Mapping[str, Any], int, int], None]
# The default grid's baseline: what "512 tokens" advice gives, so the verdict says what tuning buys.
DEFAULT_BASELINE = "fixed chunk_size=512 overlap=0"
JOURNAL_FORMAT = 2  # rows carry per-query scores and the budget curve
# A dense retriever reads only the first max_seq_length word pieces of a chunk; past this share of
# a configuration's chunks the sweep says so, since its score is that of the chunks' beginnings.
TRUNCATED_WARNING = 0.1


class Sweep:
    """Grid search over chunking configurations, scored by `chunkopt.evaluate`."""

    def __init__(
        self,
        grid: Iterable[Mapping[str, Any]] | None = None,
        *,
        retriever: str | Retriever = "tfidf",
        top_k: int | None = None,
        token_budget: int | None = None,
        budgets: Sequence[int] | None = None,
        objective: str = "recall",
        constraints: Constraints | None = None,
        baseline: str | None = None,
        alpha: float = statistics.DEFAULT_ALPHA,
        resamples: int = statistics.DEFAULT_RESAMPLES,
        seed: int = 0,
        encoding: str = DEFAULT_ENCODING,
        n_jobs: int = 1,
        checkpoint_dir: str | Path | None = None,
    ) -> None:
        top_k, token_budget = check_budget(top_k, token_budget)
        if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs == 0 or n_jobs < -1:
            raise ParameterError(f"n_jobs must be a positive number of processes or -1 for all cores, got {n_jobs!r}")
        self.grid = list(grid) if grid is not None else default_grid()
        # `retriever` is a name or a name with parameters, "neural precision=fp32": built (and so
        # checked) now; `retriever` keeps the name, `retriever_params` every parameter as resolved.
        template = fresh_retriever(retriever)
        self.retriever = template.name
        self.retriever_params = template.params
        self._retriever_template = template
        self.top_k = top_k
        self.token_budget = token_budget
        self.budgets = curve_points(top_k, token_budget, budgets)
        self.objective = check_objective(objective)
        self.constraints = constraints or Constraints()
        self.alpha = statistics.check_alpha(alpha)
        self.resamples = statistics.check_resamples(resamples)
        self.seed = seed
        self.encoding = encoding
        self.n_jobs = n_jobs
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.configurations = expand(self.grid, encoding)  # validates the whole grid before any work
        # The baseline is what the verdict measures the gain against: the user's, or for the
        # default grid the common "512 tokens" default; a custom grid without one has none.
        self.baseline_is_default = baseline is None and grid is None and "fixed" in strategies.available()
        if self.baseline_is_default:
            baseline = DEFAULT_BASELINE
        self.baseline = baseline
        self.baseline_config = parse_configuration(baseline, encoding) if baseline is not None else None
        if self.baseline_config is not None and self.baseline_config.key not in {c.key for c in self.configurations}:
            self.configurations.append(self.baseline_config)
        oversized = [c.label() for c in self.configurations if token_budget is not None and c.size > token_budget]
        if oversized:
            warnings.warn(
                f"{len(oversized)} of the configurations may make chunks larger than the {token_budget}-token budget "
                f"({', '.join(oversized[:3])}{', ...' if len(oversized) > 3 else ''}); a query whose best chunk "
                "does not fit gets nothing, so they score low: raise the token budget to the largest size tried",
                stacklevel=2,
            )

    @property
    def retriever_label(self) -> str:
        """The retriever as on the command line, with the parameters that differ from their defaults;
        for hybrid, also its dense retriever's (`dense_params`, as `--retriever` takes them)."""
        changed = [f"{k}={v}" for k, v in _changed_params(self._retriever_template).items()]
        dense = getattr(self._retriever_template, "dense", None)  # hybrid's dense retriever
        dense_changed = _changed_params(dense) if dense is not None else {}
        if dense_changed:
            changed.append(f"dense_params='{json.dumps(dense_changed)}'")
        return " ".join([self.retriever, *changed])

    @property
    def retriever_family(self) -> str | None:
        """"lexical", "dense", "hybrid" or None (chunkopt.retrievers.retriever_family): what generated
        queries' agreement with real questions was measured for."""
        return retriever_family(self._retriever_template)

    @property
    def budget(self) -> dict[str, int | None]:
        return {"top_k": self.top_k, "token_budget": self.token_budget}

    def context_key(self, corpus: Corpus, queries: Sequence[Query]) -> str:
        """What makes two sweeps' results comparable: same documents, queries and evaluation."""
        # The retriever's parameters as resolved (the endpoint's URL and model may come from the
        # environment): a journal written with another model is not resumed. Left out when there
        # are none, so tfidf journals keep their names.
        retriever_params = self.retriever_params
        context = {
            "corpus": corpus.fingerprint(),
            "queries": queries_hash(queries),
            "retriever": self.retriever,
            **({"retriever_params": retriever_params} if retriever_params else {}),
            **self.budget,
            "budgets": self.budgets,
            "chunkopt": chunkopt.__version__,
            "journal_format": JOURNAL_FORMAT,
        }
        return hashlib.sha256(json.dumps(context, sort_keys=True).encode()).hexdigest()

    def checkpoint_path(self, corpus: Corpus, queries: Sequence[Query]) -> Path | None:
        if self.checkpoint_dir is None:
            return None
        return self.checkpoint_dir / f"sweep-{self.context_key(corpus, queries)[:16]}.jsonl"

    def fit(self, corpus: Corpus, queries: Sequence[Query], progress: ProgressCallback | None = None) -> Sweep:
        """Evaluate every configuration (resuming from the checkpoint), then rank and select."""
        generator = getattr(queries, "generator_info", None)
        if generator is not None and misleads(generator, self.retriever_family, self.budget):
            # Said before the work, so a long dense sweep can be stopped; the verdict gives the figures.
            warnings.warn(f"{generator['name']} queries misled a dense retriever at top-k on all three benchmarks (they "
                          "favour the largest chunks): sweep with a token budget (--token-budget) instead, or with "
                          "real questions", stacklevel=2)
        journal = self.checkpoint_path(corpus, queries)
        finished = _read_journal(journal)
        todo = [c for c in self.configurations if c.key not in finished]
        total, done = len(self.configurations), len(self.configurations) - len(todo)
        self.resumed_ = done
        claims = Claims(journal)  # another sweep on the same journal does what it claimed, we do the rest

        def record(row: dict, reused: bool = False) -> None:
            nonlocal done
            finished[row["config_key"]] = row
            if journal is not None and not reused:
                _append(journal, row)
            claims.release(row["config_key"])
            done += 1
            self.resumed_ += reused
            if progress is not None:
                progress(row, done, total)

        try:
            for row in self._evaluate_all(_claimed(todo, claims, journal), corpus, queries, len(todo)):
                record(row)
            by_key = {c.key: c for c in todo}
            for key in claims.deferred:  # claimed by another sweep: reuse its row, or do it if it gave up
                row = _read_journal(journal).get(key)
                if row is None:
                    claims.wait_for(key)
                    row = _read_journal(journal).get(key)
                if row is not None:
                    record(row, reused=True)
                else:
                    record(self._evaluate_one(by_key[key], corpus, queries))
        finally:
            claims.release_all()
        rows = [dict(finished[c.key]) for c in self.configurations]
        self.n_queries_ = len(queries)
        # What generated the queries (chunkopt.querygen), or None for a query set given by the user.
        self.query_generator_ = getattr(queries, "generator_info", None)
        # Queries resampled together (a generator's questions about one sentence), or None: all independent.
        self.query_groups_ = query_groups(list(queries))
        self.per_query_ = {row["label"]: {m: np.asarray(v) for m, v in row.pop("per_query").items()} for row in rows}
        self._select(rows)
        _warn_truncation(self.results_)
        self.checkpoint_ = journal
        return self

    def _settings(self) -> dict[str, Any]:
        """What `evaluate` is given for every configuration."""
        return {"retriever": self._retriever_template, **self.budget, "budgets": None if self.top_k else self.budgets}

    def _evaluate_one(self, config: Configuration, corpus: Corpus, queries: Sequence[Query]) -> dict:
        return _evaluate_one(config, corpus, queries, self._settings())

    def _evaluate_all(
        self, todo: Iterable[Configuration], corpus: Corpus, queries: Sequence[Query], count: int
    ) -> Iterator[dict]:
        settings = self._settings()
        if self.n_jobs == 1 or count <= 1:
            return (_evaluate_one(c, corpus, queries, settings) for c in todo)
        # Unordered, so each result is journaled the moment it exists; workers exit if we are killed
        # (loky's from the moment they start; other backends' from their first task, if our children).
        parent = os.getpid()
        loky = isinstance(get_active_backend()[0], LokyBackend)
        from_start = {"initializer": watch_parent, "initargs": (parent,)} if loky else {}
        parallel = Parallel(n_jobs=self.n_jobs, return_as="generator_unordered", **from_start)
        return parallel(delayed(_evaluate_in_worker)(parent, c, corpus, queries, settings) for c in todo)

    def _select(self, rows: list[dict]) -> None:
        baseline = None
        if self.baseline_config is not None:
            baseline = next(i for i, c in enumerate(self.configurations) if c.key == self.baseline_config.key)
        scores = [self.per_query_[row["label"]][self.objective] for row in rows]
        self.decision_: Decision = decide(
            rows, scores, self.objective, self.constraints,
            baseline=baseline, alpha=self.alpha, resamples=self.resamples, seed=self.seed,
            generated=self.query_generator_ is not None, groups=self.query_groups_,
        )
        decision = self.decision_
        order = rank(rows, self.objective, self.constraints)
        pareto = pareto_front(rows, self.objective)
        self.results_ = []
        for position, i in enumerate(order, start=1):
            violations = self.constraints.violations(rows[i])
            low, high = decision.intervals[i]
            self.results_.append({
                **rows[i], "rank": position, "feasible": not violations, "violations": violations, "pareto": pareto[i],
                "ci_low": low, "ci_high": high, "p_vs_best": decision.p_vs_best.get(i),
                "tied_with_best": i in decision.tied, "recommended": i == decision.recommended,
                "baseline": i == baseline,
            })
        by_label = {row["label"]: row for row in self.results_}
        self.top_row_ = by_label[rows[decision.top]["label"]] if decision.top is not None else None
        self.baseline_row_ = by_label[rows[baseline]["label"]] if baseline is not None else None
        if decision.recommended is None:
            self.best_config_ = None
            self.best_chunker_: Strategy | None = None
            self.best_score_ = None
            self.best_row_ = None
            return
        best = by_label[rows[decision.recommended]["label"]]
        self.best_config_ = {"strategy": best["strategy"], "params": best["params"]}
        self.best_chunker_ = Configuration(best["strategy"], best["params"]).build()
        self.best_score_ = best[self.objective]
        self.best_row_ = best

    def recommended_result(self, corpus: Corpus, queries: Sequence[Query]) -> Any:
        """The recommendation evaluated again with its per-query detail (what each query got back),
        for the report's missed queries; the same corpus and queries as `fit`, so the same scores."""
        if self.best_config_ is None:
            raise ValueError("this sweep has no recommendation: " + self.explain())
        config = Configuration(self.best_config_["strategy"], self.best_config_["params"])
        return evaluate(corpus, queries, config.build(), **self._settings())

    def budget_curve(self, label: str) -> list[dict[str, Any]]:
        """One configuration's budget curve (by its label): a dict per budget, smallest first."""
        for row in self.results_:
            if row["label"] == label:
                return budget_curve(row)
        raise KeyError(f"no configuration labelled {label!r} in this sweep; labels are those of results_")

    @property
    def tied_(self) -> list[dict[str, Any]]:
        """The results rows not significantly worse than the top scorer, best first."""
        return [row for row in self.results_ if row["tied_with_best"]]

    def explain(self) -> str:
        """The verdict: what to use, how sure, and what it gains over the baseline (see chunkopt.verdict)."""
        from chunkopt.verdict import explain

        return explain(self)


def _changed_params(retriever: Any) -> dict[str, Any]:
    """A retriever's parameters that differ from its schema's defaults (as resolved: precision="auto" shows what ran)."""
    defaults = {p.name: p.default for p in type(retriever).schema}
    return {k: v for k, v in retriever.params.items() if k in defaults and defaults[k] != v}


def _warn_truncation(rows: Sequence[Mapping[str, Any]]) -> None:
    cut = [r for r in rows if r.get("truncated_share", 0) > TRUNCATED_WARNING]
    if not cut:
        return
    cut.sort(key=lambda r: -r["truncated_share"])
    named = ", ".join(f"{r['label']} ({r['truncated_share']:.0%})" for r in cut[:3]) + (", ..." if len(cut) > 3 else "")
    warnings.warn(
        f"chunks longer than the embedding model reads ({cut[0]['max_seq_length']} word pieces) are embedded from "
        f"their beginning only, in {len(cut)} of the configurations: {named}. "
        "A vector index with this model does the same; a model with a longer input would score them differently",
        stacklevel=3,
    )


def _claimed(todo: list[Configuration], claims: Claims, journal: Path | None) -> Iterator[Configuration]:
    """The configurations this sweep claims, one at a time; the rest go to `claims.deferred`."""
    for config in todo:
        if not claims.claim(config.key):
            claims.deferred.append(config.key)
        elif claims.folder is not None and config.key in _read_journal(journal):
            claims.deferred.append(config.key)  # another sweep finished it since we read the journal
        else:
            yield config


def _evaluate_in_worker(parent: int, config: Configuration, corpus: Corpus, queries: Sequence[Query],
                        settings: dict) -> dict:
    watch_parent(parent)
    return _evaluate_one(config, corpus, queries, settings)


def _evaluate_one(config: Configuration, corpus: Corpus, queries: Sequence[Query], settings: dict) -> dict:
    result = evaluate(corpus, queries, config.build(), **settings)
    # Per-query scores, for the paired tests; six decimals keep the journal small and lose nothing a test can see.
    per_query = {m: [round(float(row[m]), 6) for row in result.per_query] for m in METRICS}
    return {"config_key": config.key, "label": config.label(), **result.to_row(), "per_query": per_query}


def _read_journal(path: Path | None) -> dict[str, dict]:
    """Finished rows from an earlier, interrupted run; a torn last line (a crash mid-write) is dropped."""
    if path is None or not path.exists():
        return {}
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and "config_key" in row:
            rows[row["config_key"]] = row
    return rows


def _append(path: Path, row: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as f:
        if f.tell() > 0:
            f.seek(f.tell() - 1)
            if f.read(1) != "\n":  # a torn line from a crash: end it so this row stays readable
                f.write("\n")
        f.write(json.dumps(row, sort_keys=True) + "\n")
