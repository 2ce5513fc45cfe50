"""The sweep: every configuration scored, the best selected, work persisted and resumed."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest

import strategies
from chunkopt import statistics
from chunkopt.config import confidence
from chunkopt.corpus import Corpus, Document
from chunkopt.queries import Query, Reference
from chunkopt.selection import Constraints
from chunkopt.sweep import Sweep
from strategies.base import ParameterError

TOPICS = {
    "bread.md": "Sourdough bread needs a lively starter fed with flour and water. " * 3
    + "Bake the loaf in a hot Dutch oven so the crust blisters and the crumb opens. " * 3,
    "stars.md": "A red giant is a dying star that has exhausted the hydrogen in its core. " * 3
    + "Neutron stars spin rapidly and emit beams of radio waves called pulsars. " * 3,
    "tax.md": "Quarterly estimated taxes are due in April, June, September and January. " * 3
    + "Late payments accrue interest and a penalty on the unpaid balance. " * 3,
}


@pytest.fixture(scope="module")
def corpus():
    return Corpus([Document(name, text) for name, text in TOPICS.items()])


def ref(doc, phrase):
    start = TOPICS[doc].index(phrase)
    return Reference(doc, start, start + len(phrase))


@pytest.fixture(scope="module")
def queries():
    return [
        Query("q1", "how do I feed a sourdough starter", (ref("bread.md", "Sourdough bread needs a lively starter fed with flour and water."),)),
        Query("q2", "what are pulsars", (ref("stars.md", "Neutron stars spin rapidly and emit beams of radio waves called pulsars."),)),
        Query("q3", "when are estimated taxes due", (ref("tax.md", "Quarterly estimated taxes are due in April, June, September and January."),)),
        Query("q4", "penalty for paying late", (ref("tax.md", "Late payments accrue interest and a penalty on the unpaid balance."),)),
    ]


GRID = [{"strategy": "fixed", "chunk_size": [16, 64, 256]}, {"strategy": "recursive", "chunk_size": [16, 64]}]


def test_every_configuration_gets_a_row_with_every_metric(corpus, queries):
    sweep = Sweep(GRID, top_k=2).fit(corpus, queries)
    assert len(sweep.results_) == 5
    for row in sweep.results_:
        assert {"strategy", "params", "iou", "recall", "precision", "mrr", "n_chunks", "tokens_per_query"} <= set(row)


def test_results_are_ranked_by_the_objective(corpus, queries):
    sweep = Sweep(GRID, top_k=2, objective="recall").fit(corpus, queries)
    recalls = [round(r["recall"], 4) for r in sweep.results_]
    assert recalls == sorted(recalls, reverse=True)
    assert [r["rank"] for r in sweep.results_] == [1, 2, 3, 4, 5]


def test_best_chunker_is_the_recommended_row_rebuilt(corpus, queries):
    sweep = Sweep(GRID, top_k=2).fit(corpus, queries)
    [best] = [r for r in sweep.results_ if r["recommended"]]
    assert sweep.best_config_ == {"strategy": best["strategy"], "params": best["params"]}
    assert sweep.best_chunker_ == strategies.get(best["strategy"], **best["params"])


def test_grouped_queries_are_resampled_by_group_and_the_verdict_says_so(corpus, queries):
    grouped = [replace(q, group="taxes" if q.id in ("q3", "q4") else None) for q in queries]
    sweep = Sweep(GRID, top_k=2).fit(corpus, grouped)
    assert sweep.decision_.groups == 3
    scores = [sweep.per_query_[row["label"]]["recall"] for row in sweep.results_]
    groups = ["query:q1", "query:q2", "group:taxes", "group:taxes"]
    assert [(r["ci_low"], r["ci_high"]) for r in sweep.results_] == statistics.intervals(scores, groups=groups)
    assert "4 queries (3 groups, each resampled whole)" in sweep.explain()
    assert "4 queries (3 groups, each resampled whole)" in confidence(sweep)["interval_method"]
    assert "the signs flipped per group (3 groups)" in confidence(sweep)["test"]


def test_recall_is_the_default_objective():
    assert Sweep(GRID).objective == "recall"


def test_every_budget_of_the_curve_is_in_every_row(corpus, queries):
    sweep = Sweep(GRID, token_budget=300, budgets=[64, 128]).fit(corpus, queries)
    for row in sweep.results_:
        for budget in (64, 128, 300):
            assert {f"recall@{budget}", f"iou@{budget}", f"mrr@{budget}", f"tokens_per_query@{budget}"} <= set(row)
    curve = sweep.budget_curve(sweep.results_[0]["label"])
    assert [p["token_budget"] for p in curve] == [64, 128, 300]


def test_default_budgets_run_from_256_to_4096_tokens(corpus, queries):
    sweep = Sweep(GRID).fit(corpus, queries)
    assert [p["token_budget"] for p in sweep.budget_curve(sweep.results_[0]["label"])] == [256, 512, 1024, 2048, 4096]


def test_rows_carry_the_interval_the_test_and_the_tied_flag(corpus, queries):
    sweep = Sweep(GRID).fit(corpus, queries)
    for row in sweep.results_:
        assert row["ci_low"] <= row["recall"] <= row["ci_high"]
        assert isinstance(row["tied_with_best"], bool)
    top = sweep.top_row_
    assert top["p_vs_best"] is None and top["tied_with_best"]
    assert all(0 < r["p_vs_best"] <= 1 for r in sweep.results_ if r is not top)


def test_the_recommendation_is_tied_with_the_top_scorer(corpus, queries):
    sweep = Sweep(GRID).fit(corpus, queries)
    assert sweep.best_row_["tied_with_best"]
    assert sweep.best_row_ in sweep.tied_


def test_a_baseline_missing_from_the_grid_is_added(corpus, queries):
    sweep = Sweep(GRID, baseline="fixed chunk_size=32").fit(corpus, queries)
    assert len(sweep.results_) == 6
    [base] = [r for r in sweep.results_ if r["baseline"]]
    assert base["label"] == "fixed chunk_size=32"


def test_the_default_grid_has_fixed_512_as_its_baseline_and_a_custom_grid_none():
    assert Sweep().baseline_config.label() == "fixed chunk_size=512"
    assert Sweep().baseline_is_default
    assert Sweep(GRID).baseline_config is None


def test_a_bad_baseline_is_refused_before_any_work():
    with pytest.raises(ParameterError, match="configuration 'fixed chunk_size=0': fixed: chunk_size must be an integer >= 1"):
        Sweep(GRID, baseline="fixed chunk_size=0")


@pytest.mark.parametrize(("settings", "message"), [
    ({"alpha": 0}, "alpha must be a significance level strictly between 0 and 1"),
    ({"alpha": 1.5}, "alpha must be a significance level strictly between 0 and 1"),
    ({"resamples": -1}, "resamples must be an integer of at least 100"),
])
def test_bad_statistics_settings_are_refused(settings, message):
    with pytest.raises(ParameterError, match=message):
        Sweep(GRID, **settings)


def test_every_configuration_scoring_zero_leaves_no_winner(corpus, queries):
    with pytest.warns(UserWarning, match="larger than the 1-token budget"):
        sweep = Sweep(GRID, token_budget=1, budgets=[1]).fit(corpus, queries)
    assert sweep.best_config_ is None
    assert sweep.decision_.status == "zero"
    assert sweep.explain().startswith("no recommendation: every configuration scores 0 on recall in a 1-token context")


def test_constraint_excludes_configurations_from_winning(corpus, queries):
    unconstrained = Sweep(GRID, top_k=2).fit(corpus, queries)
    fewest = min(r["n_chunks"] for r in unconstrained.results_)
    sweep = Sweep(GRID, top_k=2, constraints=Constraints(max_chunks=fewest)).fit(corpus, queries)
    assert sweep.results_[0]["n_chunks"] == fewest
    assert all(r["feasible"] == (r["n_chunks"] <= fewest) for r in sweep.results_)


def test_impossible_constraints_leave_no_winner(corpus, queries):
    sweep = Sweep(GRID, top_k=2, constraints=Constraints(max_chunks=1)).fit(corpus, queries)
    assert sweep.best_config_ is None
    assert sweep.explain().startswith("no configuration satisfies the constraints (max_chunks=1)")


def test_finished_configurations_are_journaled_and_resumed(corpus, queries, tmp_path, monkeypatch):
    first = Sweep(GRID, top_k=2, checkpoint_dir=tmp_path).fit(corpus, queries)
    journal = first.checkpoint_
    assert len(journal.read_text().splitlines()) == 5

    import chunkopt.sweep as sweep_module

    def must_not_run(*args, **kwargs):
        raise AssertionError("a finished configuration was evaluated again")

    monkeypatch.setattr(sweep_module, "evaluate", must_not_run)
    again = Sweep(GRID, top_k=2, checkpoint_dir=tmp_path).fit(corpus, queries)
    assert again.resumed_ == 5
    assert again.results_ == first.results_


def test_an_interrupted_sweep_resumes_with_only_the_missing_work(corpus, queries, tmp_path, monkeypatch):
    import chunkopt.sweep as sweep_module

    real_evaluate = sweep_module.evaluate
    calls = []

    def interrupt_after_two(*args, **kwargs):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(args[2])
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "evaluate", interrupt_after_two)
    with pytest.raises(KeyboardInterrupt):
        Sweep(GRID, top_k=2, checkpoint_dir=tmp_path).fit(corpus, queries)

    resumed_calls = []

    def count(*args, **kwargs):
        resumed_calls.append(args[2])
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "evaluate", count)
    sweep = Sweep(GRID, top_k=2, checkpoint_dir=tmp_path).fit(corpus, queries)
    assert sweep.resumed_ == 2
    assert len(resumed_calls) == 3
    assert len(sweep.results_) == 5


def test_a_torn_last_line_is_ignored_and_redone(corpus, queries, tmp_path):
    first = Sweep(GRID, top_k=2, checkpoint_dir=tmp_path).fit(corpus, queries)
    lines = first.checkpoint_.read_text().splitlines()
    first.checkpoint_.write_text("\n".join(lines[:3]) + "\n" + lines[3][:20])
    again = Sweep(GRID, top_k=2, checkpoint_dir=tmp_path).fit(corpus, queries)
    assert again.resumed_ == 3
    assert all(json.loads(line) for line in first.checkpoint_.read_text().splitlines()[-2:])


def test_changed_documents_do_not_reuse_old_results(corpus, queries, tmp_path):
    Sweep(GRID, top_k=2, checkpoint_dir=tmp_path).fit(corpus, queries)
    changed = Corpus([Document(d.id, d.text + " Extra words.") for d in corpus])
    again = Sweep(GRID, top_k=2, checkpoint_dir=tmp_path).fit(changed, queries)
    assert again.resumed_ == 0


def test_parallel_jobs_give_the_same_quality_metrics(corpus, queries):
    serial = Sweep(GRID, top_k=2).fit(corpus, queries)
    parallel = Sweep(GRID, top_k=2, n_jobs=2).fit(corpus, queries)

    def quality(sweep):
        return [(r["label"], r["iou"], r["recall"], r["n_chunks"]) for r in sweep.results_]

    assert quality(parallel) == quality(serial)


def test_progress_reports_each_finished_configuration(corpus, queries):
    seen = []
    Sweep(GRID, top_k=2).fit(corpus, queries, progress=lambda row, done, total: seen.append((done, total)))
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_top_k_and_token_budget_together_are_refused():
    with pytest.raises(ParameterError, match="give top_k or token_budget, not both"):
        Sweep(GRID, top_k=2, token_budget=100)


def test_sizes_over_the_token_budget_are_warned_about():
    with pytest.warns(UserWarning, match=r"2 of the configurations may make chunks larger than the 60-token budget "
                      r"\(fixed chunk_size=64, fixed chunk_size=256\)"):
        Sweep([{"strategy": "fixed", "chunk_size": [16, 64, 256]}], token_budget=60)


def test_the_grid_is_validated_before_any_work():
    with pytest.raises(ParameterError, match="chunk_size must be an integer >= 1, got -5"):
        Sweep([{"strategy": "fixed", "chunk_size": -5}])


def test_explanation_names_the_recommendation_and_its_interval(corpus, queries):
    sweep = Sweep(GRID).fit(corpus, queries)
    best = sweep.best_row_
    assert sweep.explain().startswith(
        f"recommended: {best['label']}: finds {best['recall']:.1%} of the answer text in a 1,024-token context (95% CI "
    )


def fake_evaluate(recall_by_size, tokens_by_size=None):
    """An evaluate() that scores each chunk size with the given per-query recalls, every other metric 0."""
    from chunkopt.evaluation import METRICS, Result

    def evaluate(corpus, queries, chunker, **settings):
        size = chunker.params["chunk_size"]
        per_query = [{m: 0.0 for m in METRICS} | {"recall": r} for r in recall_by_size[size]]
        summary = {m: 0.0 for m in METRICS} | {
            "recall": sum(recall_by_size[size]) / len(recall_by_size[size]),
            "tokens_per_query": (tokens_by_size or {}).get(size, 100.0), "n_chunks": 10,
            "query_ms_p50": 1.0, "query_ms_p95": 1.0,
        }
        return Result({"strategy": chunker.name, "params": chunker.params}, summary, per_query)

    return evaluate


def sweep_with(monkeypatch, corpus, scores, tokens=None, **settings):
    import chunkopt.sweep as sweep_module

    monkeypatch.setattr(sweep_module, "evaluate", fake_evaluate(scores, tokens))
    grid = [{"strategy": "fixed", "chunk_size": sorted(scores)}]
    n = len(next(iter(scores.values())))
    queries = [Query(f"q{i}", "anything", (Reference("bread.md", 0, 5),)) for i in range(n)]
    return Sweep(grid, **settings).fit(corpus, queries)


def test_identical_configurations_tie_and_the_cheaper_is_recommended(corpus, monkeypatch):
    same = [0.9, 0.5, 1.0, 0.0, 0.7, 0.3]
    sweep = sweep_with(monkeypatch, corpus, {16: same, 64: same}, tokens={16: 900.0, 64: 400.0})
    assert [r["label"] for r in sweep.tied_] == ["fixed chunk_size=64", "fixed chunk_size=16"]
    assert sweep.best_row_["label"] == "fixed chunk_size=64"


def test_a_configuration_better_on_every_query_is_significant(corpus, monkeypatch):
    better = [0.9, 0.8, 0.7, 1.0, 0.6, 0.9, 0.8, 0.7, 1.0, 0.6]
    worse = [x - 0.2 for x in better]
    sweep = sweep_with(monkeypatch, corpus, {16: better, 64: worse}, tokens={16: 900.0, 64: 400.0})
    assert [r["label"] for r in sweep.tied_] == ["fixed chunk_size=16"]
    assert sweep.best_row_["label"] == "fixed chunk_size=16"
    assert sweep.results_[1]["p_vs_best"] == pytest.approx(1 / 1024)


def test_the_top_scorer_is_named_when_a_cheaper_tied_one_is_recommended(corpus, monkeypatch):
    top = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    close = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    sweep = sweep_with(monkeypatch, corpus, {16: top, 64: close}, tokens={16: 900.0, 64: 400.0})
    verdict = sweep.explain().splitlines()
    assert verdict[0].startswith("recommended: fixed chunk_size=64: finds 50.0% of the answer text")
    assert verdict[1].startswith("  the top scorer, fixed chunk_size=16 (finds 66.7% of the answer text in a 1,024-token "
                                 "context), is not significantly better (paired sign-flip test over 6 queries")
    assert verdict[1].endswith("; this is the cheapest of the 2 tied configurations")


def test_the_baseline_line_gives_the_gain_with_its_interval(corpus, monkeypatch):
    better = [0.9, 0.8, 0.7, 1.0, 0.6, 0.9, 0.8, 0.7, 1.0, 0.6, 0.5, 0.9]
    worse = [x - 0.1 for x in better]
    sweep = sweep_with(monkeypatch, corpus, {16: better, 64: worse}, baseline="fixed chunk_size=64")
    assert sweep.explain().splitlines()[-1] == (
        "  +10.0 points over your baseline fixed chunk_size=64 (95% CI +10.0 to +10.0, p = 0.00024)"
    )


def test_a_baseline_tied_with_the_best_is_kept_even_when_a_tie_is_cheaper(corpus, monkeypatch):
    top = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    base = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    sweep = sweep_with(monkeypatch, corpus, {16: top, 64: base, 256: base}, tokens={16: 900.0, 64: 700.0, 256: 400.0},
                       baseline="fixed chunk_size=64")
    assert "fixed chunk_size=256" in [r["label"] for r in sweep.tied_]
    assert sweep.best_row_["label"] == "fixed chunk_size=64"
    assert sweep.explain().splitlines()[-1] == (
        "  this is your baseline: nothing in the grid is significantly better than it, so keep it"
    )


def test_without_a_baseline_the_cheapest_tie_is_recommended(corpus, monkeypatch):
    top = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    close = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    sweep = sweep_with(monkeypatch, corpus, {16: top, 64: close, 256: close}, tokens={16: 900.0, 64: 700.0, 256: 400.0})
    assert sweep.best_row_["label"] == "fixed chunk_size=256"


# ---- sweeps sharing a checkpoint folder, and workers that outlive a killed sweep -------------


def _two_config_sweep(checkpoint_dir, **kwargs):
    from chunkopt.sweep import Sweep

    return Sweep([{"strategy": "fixed", "chunk_size": [16, 32], "overlap": 0}], checkpoint_dir=checkpoint_dir, **kwargs)


def _planted_row(search, config, corpus, queries):
    """The row another sweep would journal for `config`, marked so a test can tell it was reused."""
    return {**search._evaluate_one(config, corpus, queries), "marker": "done by the other sweep"}


def test_configuration_another_sweep_finished_meanwhile_is_reused_not_redone(tmp_path, corpus, queries):
    from chunkopt.claims import Claims

    search = _two_config_sweep(tmp_path / "ck")
    journal = search.checkpoint_path(corpus, queries)
    first, second = search.configurations
    other = Claims(journal)  # stands for a second sweep, holding the first configuration
    assert other.claim(first.key)

    def the_other_sweep_finishes(row, done, total):
        if row["config_key"] == second.key:  # this sweep has done its share; the other one ends now
            with journal.open("a") as f:
                f.write(json.dumps(_planted_row(search, first, corpus, queries)) + "\n")
            other.release(first.key)

    search.fit(corpus, queries, progress=the_other_sweep_finishes)
    rows = {r["config_key"]: r for r in search.results_}
    assert rows[first.key]["marker"] == "done by the other sweep"
    assert "marker" not in rows[second.key]
    assert search.resumed_ == 1


def test_sweep_waits_for_a_configuration_another_sweep_is_still_evaluating(tmp_path, corpus, queries):
    import threading
    import warnings

    from chunkopt.claims import Claims

    search = _two_config_sweep(tmp_path / "ck")
    journal = search.checkpoint_path(corpus, queries)
    first = search.configurations[0]
    other = Claims(journal)
    assert other.claim(first.key)
    waiting = threading.Event()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *args, **kwargs: waiting.set()  # said just before it blocks
        fitting = threading.Thread(target=search.fit, args=(corpus, queries))
        fitting.start()
        assert waiting.wait(60)
        with journal.open("a") as f:  # the other sweep finishes while this one waits
            f.write(json.dumps(_planted_row(search, first, corpus, queries)) + "\n")
        other.release(first.key)
        fitting.join(60)
    assert not fitting.is_alive()
    assert {r["config_key"]: r for r in search.results_}[first.key]["marker"] == "done by the other sweep"


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_claim_of_a_sweep_killed_with_sigkill_does_not_block_the_next_one(tmp_path, corpus, queries):
    search = _two_config_sweep(tmp_path / "ck")
    journal = search.checkpoint_path(corpus, queries)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; from chunkopt.claims import Claims; "
         f"c = Claims(Path({str(journal)!r})); assert c.claim({search.configurations[0].key!r}); "
         "print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline() == "held\n"
    holder.kill()
    holder.wait()
    search.fit(corpus, queries)  # would wait forever if the dead process's lock were still held
    assert search.resumed_ == 0 and len(search.results_) == 2


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs Linux pidfd to wait on a process that is not a child")
def test_workers_exit_when_the_sweep_is_killed(tmp_path):
    import select

    script = textwrap.dedent("""
        import os, sys
        from chunkopt.corpus import Corpus, Document
        from chunkopt.queries import Query, Reference
        from chunkopt.sweep import Sweep
        text = "word " * 5000
        corpus = Corpus([Document("a.txt", text)])
        queries = [Query("q", "word", (Reference("a.txt", 0, 10),))]
        def report(row, done, total):
            children = open(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read().split()
            print(" ".join(children), flush=True)
            sys.stdin.read()  # stay here, workers alive, until killed
        grid = [{"strategy": "fixed", "chunk_size": [16, 17, 18, 19], "overlap": 0}]
        Sweep(grid, n_jobs=2).fit(corpus, queries, progress=report)
    """)
    sweep_process = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, cwd=tmp_path)
    children = [int(pid) for pid in sweep_process.stdout.readline().split()]
    workers = []
    for pid in children:
        try:
            if b"popen_loky_posix" in open(f"/proc/{pid}/cmdline", "rb").read():  # a worker, not the tracker
                workers.append(os.pidfd_open(pid))
        except (FileNotFoundError, ProcessLookupError):
            pass
    assert workers, children
    sweep_process.kill()
    sweep_process.wait()
    try:
        ready, _, _ = select.select(workers, [], [], 20)  # a pidfd becomes readable when its process exits
        still_running = [fd for fd in workers if fd not in ready]
        if still_running:  # wait for every one, not just the first
            ready2, _, _ = select.select(still_running, [], [], 20)
            still_running = [fd for fd in still_running if fd not in ready2]
        assert not still_running
    finally:
        for fd in workers:
            try:
                signal.pidfd_send_signal(fd, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.close(fd)


def test_chunks_longer_than_the_embedding_model_reads_are_warned_about(corpus, monkeypatch):
    import chunkopt.sweep as sweep_module

    real = fake_evaluate({16: [1.0, 0.0], 64: [1.0, 1.0]})

    def with_truncation(corpus, queries, chunker, **settings):
        result = real(corpus, queries, chunker, **settings)
        share = 0.75 if chunker.params["chunk_size"] == 64 else 0.0
        return type(result)(result.config, {**result.summary, "max_seq_length": 256, "truncated_share": share},
                            result.per_query)

    monkeypatch.setattr(sweep_module, "evaluate", with_truncation)
    queries = [Query(f"q{i}", "anything", (Reference("bread.md", 0, 5),)) for i in range(2)]
    with pytest.warns(UserWarning, match=r"chunks longer than the embedding model reads \(256 word pieces\) are "
                                         r"embedded from their beginning only, in 1 of the configurations: "
                                         r"fixed chunk_size=64 \(75%\)"):
        Sweep([{"strategy": "fixed", "chunk_size": [16, 64]}]).fit(corpus, queries)
