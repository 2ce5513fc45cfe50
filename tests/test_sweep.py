"""The sweep: every configuration scored, the best selected, work persisted and resumed."""

import json

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
