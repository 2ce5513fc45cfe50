"""The sweep: every configuration scored, the best selected, work persisted and resumed."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import strategies
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


def test_best_chunker_is_the_top_row_rebuilt(corpus, queries):
    sweep = Sweep(GRID, top_k=2).fit(corpus, queries)
    top = sweep.results_[0]
    assert sweep.best_config_ == {"strategy": top["strategy"], "params": top["params"]}
    assert sweep.best_chunker_ == strategies.get(top["strategy"], **top["params"])


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
    with pytest.warns(UserWarning, match=r"2 configuration\(s\) may make chunks larger than the 60-token budget "
                      r"\(fixed chunk_size=64, fixed chunk_size=256\)"):
        Sweep([{"strategy": "fixed", "chunk_size": [16, 64, 256]}], token_budget=60)


def test_the_grid_is_validated_before_any_work():
    with pytest.raises(ParameterError, match="chunk_size must be an integer >= 1, got -5"):
        Sweep([{"strategy": "fixed", "chunk_size": -5}])


def test_explanation_names_the_winner_and_the_objective(corpus, queries):
    sweep = Sweep(GRID, top_k=2).fit(corpus, queries)
    assert sweep.explain().startswith(f"best: {sweep.results_[0]['label']}: highest iou (")


def fake_evaluate(iou_by_size, iou_std):
    """An evaluate() that scores each chunk size as given, every other metric equal."""
    from chunkopt.evaluation import Result

    def evaluate(corpus, queries, chunker, **settings):
        summary = {"iou": iou_by_size[chunker.params["chunk_size"]], "iou_std": iou_std, "recall": 0.5,
                   "tokens_per_query": 100.0, "n_chunks": 10, "query_ms_p50": 1.0, "query_ms_p95": 1.0}
        return Result({"strategy": chunker.name, "params": chunker.params}, summary, [])

    return evaluate


def test_explanation_says_when_runners_up_are_within_the_standard_error(corpus, queries, monkeypatch):
    import chunkopt.sweep as sweep_module

    # 4 queries, std 0.2: standard error 0.1, so 0.45 is within it of 0.5 and 0.3 is not.
    monkeypatch.setattr(sweep_module, "evaluate", fake_evaluate({16: 0.5, 64: 0.45, 256: 0.3}, iou_std=0.2))
    sweep = Sweep([{"strategy": "fixed", "chunk_size": [16, 64, 256]}]).fit(corpus, queries)
    assert sweep.explain() == (
        "best: fixed chunk_size=16: highest iou (0.5000); 1 other configuration(s) score within one "
        "standard error (±0.1000) of it, a difference this query set cannot resolve"
    )


def test_explanation_is_silent_about_error_when_the_winner_is_clear(corpus, queries, monkeypatch):
    import chunkopt.sweep as sweep_module

    monkeypatch.setattr(sweep_module, "evaluate", fake_evaluate({16: 0.5, 64: 0.2, 256: 0.1}, iou_std=0.2))
    sweep = Sweep([{"strategy": "fixed", "chunk_size": [16, 64, 256]}]).fit(corpus, queries)
    assert sweep.explain() == "best: fixed chunk_size=16: highest iou (0.5000)"


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
