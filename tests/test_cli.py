"""The command line, driven through click's CliRunner: output, files and exit codes."""

import json

import pytest
from click.testing import CliRunner

from chunkopt.cli import main
from chunkopt.config import read_config
from chunkopt.grid import parse_configuration

DOCS = {
    "bread.md": "# Bread\n\nSourdough bread needs a lively starter fed with flour and water every day.\n\n"
    "Bake the loaf in a hot Dutch oven so the crust blisters and the crumb opens up.\n",
    "stars.md": "# Stars\n\nA red giant is a dying star that has exhausted the hydrogen in its core.\n\n"
    "Neutron stars spin rapidly and emit beams of radio waves that we observe as pulsars.\n",
    "notes/tax.txt": "Quarterly estimated taxes are due in April, June, September and January.\n\n"
    "Late payments accrue interest and a penalty on the unpaid balance.\n",
}
QUERIES = [
    ("q1", "feeding a sourdough starter", "bread.md", "Sourdough bread needs a lively starter fed with flour and water every day."),
    ("q2", "what are pulsars", "stars.md", "Neutron stars spin rapidly and emit beams of radio waves that we observe as pulsars."),
    ("q3", "estimated tax deadlines", "notes/tax.txt", "Quarterly estimated taxes are due in April, June, September and January."),
]


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    docs = tmp_path / "docs"
    for name, text in DOCS.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text, encoding="utf-8")
    with (tmp_path / "queries.jsonl").open("w") as f:
        for qid, query, doc, passage in QUERIES:
            start = DOCS[doc].index(passage)
            f.write(json.dumps({"id": qid, "query": query, "references": [{"doc": doc, "start": start, "end": start + len(passage)}]}) + "\n")
    return tmp_path


def sweep(*extra):
    args = ["sweep", "docs", "--queries", "queries.jsonl", "--strategy", "fixed", "--strategy", "recursive",
            "--chunk-size", "16,64", "--overlap", "0", *extra]
    return CliRunner().invoke(main, args)


def test_sweep_writes_tuned_config_results_and_report(workspace):
    result = sweep("--out", "tuned.json", "--results", "results.jsonl", "--report", "report.html")
    assert result.exit_code == 0, result.output
    assert "recommended: " in result.output
    config = read_config(workspace / "tuned.json")
    assert config["strategy"] in ("fixed", "recursive")
    assert set(config["corpus"]["files"]) == set(DOCS)
    rows = [json.loads(line) for line in (workspace / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and {"strategy", "params", "iou", "recall", "query_ms_p95"} <= set(rows[0])
    html = (workspace / "report.html").read_text()
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_results_as_csv(workspace):
    assert sweep("--results", "results.csv").exit_code == 0
    header = (workspace / "results.csv").read_text().splitlines()[0]
    assert header.startswith("rank,label,strategy,params,")
    assert {"recall", "recall@1024", "ci_low", "ci_high", "p_vs_best", "tied_with_best"} <= set(header.split(","))


def test_recall_is_the_default_objective(workspace):
    result = sweep()
    assert result.exit_code == 0, result.output
    assert "of the answer text in a 1,024-token context (95% CI" in result.output


def test_baseline_is_added_and_compared(workspace):
    result = sweep("--baseline", "fixed chunk_size=32", "--results", "results.jsonl")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (workspace / "results.jsonl").read_text().splitlines()]
    assert [r["label"] for r in rows if r["baseline"]] == ["fixed chunk_size=32"]
    assert "your baseline fixed chunk_size=32" in result.output or "this is your baseline" in result.output


def test_tuned_config_records_the_confidence(workspace):
    assert sweep("--out", "tuned.json").exit_code == 0
    confidence = read_config(workspace / "tuned.json")["confidence"]
    assert confidence["alpha"] == 0.05 and len(confidence["interval"]) == 2
    assert "sign-flip" in confidence["test"] and confidence["top_scorer"] in confidence["tied"]


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--alpha", "0", "alpha must be a significance level strictly between 0 and 1"),
    ("--alpha", "1.5", "alpha must be a significance level strictly between 0 and 1"),
    ("--resamples", "-1", "resamples must be an integer of at least 100"),
    ("--baseline", "fixed size=3", "configuration 'fixed size=3': fixed has no parameter 'size'"),
])
def test_bad_statistics_flags_are_usage_errors(workspace, flag, value, message):
    result = sweep(flag, value)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_budgets_with_top_k_is_a_usage_error(workspace):
    result = sweep("--top-k", "3", "--budgets", "256")
    assert result.exit_code == 2
    assert "with --top-k K the curve is every k from 1 to K" in result.output


def test_every_configuration_scoring_zero_exits_1_without_a_tuned_config(workspace):
    result = sweep("--token-budget", "1", "--budgets", "1", "--out", "tuned.json", "--report", "report.html")
    assert result.exit_code == 1
    assert "no recommendation: every configuration scores 0 on recall" in result.output
    assert not (workspace / "tuned.json").exists()
    assert "no recommendation: every configuration scores 0" in (workspace / "report.html").read_text()


def test_the_table_fits_80_columns(workspace):
    result = CliRunner().invoke(main, ["sweep", "docs", "--queries", "queries.jsonl", "--strategy", "fixed",
                                       "--strategy", "semantic", "--chunk-size", "16,64"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    table = result.stdout.splitlines()
    assert table and all(len(line) <= 80 for line in table)
    assert "…" not in result.stdout
    assert "95% CI" in result.stdout and "tokens/q" in result.stdout and "chunks" in result.stdout


def test_tuned_config_chunks_like_the_winner(workspace):
    assert sweep("--out", "tuned.json").exit_code == 0
    result = CliRunner().invoke(main, ["chunk", "docs", "--config", "tuned.json"])
    assert result.exit_code == 0
    chunks = [json.loads(line) for line in result.stdout.splitlines()]
    for c in chunks:
        assert DOCS[c["doc_id"]][c["start"]:c["end"]] == c["text"]
    assert {c["doc_id"] for c in chunks} == set(DOCS)


def test_rerun_resumes_from_the_checkpoint(workspace):
    assert sweep().exit_code == 0
    again = sweep()
    assert again.exit_code == 0
    assert "4 resumed" in again.output


def test_impossible_constraint_exits_1(workspace):
    result = sweep("--max-chunks", "1")
    assert result.exit_code == 1
    assert "no configuration satisfies the constraints" in result.output


def test_bad_chunk_size_is_a_usage_error(workspace):
    result = sweep("--chunk-size", "0")
    assert result.exit_code == 2
    assert "chunk_size must be an integer >= 1, got 0" in result.output
    assert "Traceback" not in result.output


def test_non_numeric_chunk_size_is_a_usage_error(workspace):
    result = sweep("--chunk-size", "big")
    assert result.exit_code == 2
    assert "expected comma-separated integers" in result.output


def test_unknown_strategy_is_a_usage_error(workspace):
    result = CliRunner().invoke(main, ["sweep", "docs", "--queries", "queries.jsonl", "--strategy", "nope"])
    assert result.exit_code == 2
    assert "unknown strategy 'nope'; available strategies:" in result.output


def test_missing_docs_folder_is_a_usage_error(workspace):
    result = CliRunner().invoke(main, ["sweep", "absent"])
    assert result.exit_code == 2
    assert "absent" in result.output


def test_unknown_objective_is_a_usage_error(workspace):
    result = sweep("--objective", "speed")
    assert result.exit_code == 2
    assert "objective must be one of" in result.output


def test_top_k_with_token_budget_is_a_usage_error(workspace):
    result = sweep("--top-k", "3", "--token-budget", "100")
    assert result.exit_code == 2


def test_chunk_with_a_newer_config_fails_clearly(workspace):
    (workspace / "new.json").write_text(json.dumps({"schema_version": 9, "strategy": "fixed", "params": {}}))
    result = CliRunner().invoke(main, ["chunk", "docs", "--config", "new.json"])
    assert result.exit_code == 2
    assert "newer chunkopt" in result.output


def test_strategies_lists_each_with_its_parameters():
    result = CliRunner().invoke(main, ["strategies"])
    assert result.exit_code == 0
    for name in ("fixed", "recursive", "sentence", "semantic"):
        assert f"\n{name}: " in "\n" + result.output
    assert "  chunk_size (default 512 tokens" in result.output


@pytest.mark.parametrize("command", [[], ["sweep"], ["chunk"], ["strategies"], ["import-chroma"], ["import-squad"],
                                     ["queries"], ["index"]])
def test_every_help_shows_an_example(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


def test_the_queries_help_gives_the_default_counts_the_code_uses():
    # Written by hand in the help, so that `chunkopt --help` need not import the generators.
    from chunkopt.querygen import DEFAULT_COUNT
    from chunkopt.querygen.llm import LLM_COUNT

    help_text = " ".join(CliRunner().invoke(main, ["queries", "--help"]).output.split())
    assert f"default: {DEFAULT_COUNT} offline" in help_text and f"{LLM_COUNT} with --llm" in help_text


def test_queries_are_generated_reproducibly(workspace):
    first = CliRunner().invoke(main, ["queries", "docs", "--n", "3", "--seed", "4"])
    second = CliRunner().invoke(main, ["queries", "docs", "--n", "3", "--seed", "4"])
    assert first.exit_code == 0 and first.stdout == second.stdout
    assert all(json.loads(line)["references"] for line in first.stdout.splitlines())


def test_a_sweep_on_a_file_of_generated_queries_knows_they_were_generated(workspace):
    generated = CliRunner().invoke(main, ["queries", "docs", "--n", "40", "--seed", "3"])
    (workspace / "docs" / "queries.jsonl").write_text(generated.stdout)  # where a sweep looks by default
    result = CliRunner().invoke(main, ["sweep", "docs", "--strategy", "fixed", "--chunk-size", "16,64",
                                       "--out", "tuned.json"])
    assert result.exit_code == 0, result.output
    assert "holds 40 generated queries (cloze v3, seed 3" in result.output
    assert "Generated queries (cloze v3, seed 3" in result.output  # the verdict's measured-agreement line
    assert "measured with 1,200 queries, this set has 40" in result.output  # ... told it is smaller than measured
    config = read_config(workspace / "tuned.json")
    assert config["queries"]["generator"]["seed"] == 3 and config["confidence"]["rule"] == "top scorer"


def test_a_sweep_can_share_the_queries_it_generates_evenly_between_documents(workspace):
    result = CliRunner().invoke(main, ["sweep", "docs", "--strategy", "fixed", "--chunk-size", "16,64", "--per-document",
                                       "--out", "tuned.json"])
    assert result.exit_code == 0, result.output
    assert "drawn evenly per document" in result.output and "for queries drawn by document length; shared per document" in result.output
    assert read_config(workspace / "tuned.json")["queries"]["generator"]["per_document"] is True


def test_per_document_with_a_query_file_is_a_usage_error(workspace):
    result = sweep("--per-document")
    assert result.exit_code == 2
    assert "--per-document applies to queries the sweep generates, but it would read queries.jsonl" in result.output


def test_queries_makes_1200_unless_told(workspace):
    result = CliRunner().invoke(main, ["queries", "docs"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1200


CHROMA = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "chroma"


@pytest.mark.skipif(not CHROMA.is_dir(), reason="needs ../shared/benchmarks/chroma")
def test_import_chroma_reports_what_it_wrote(tmp_path):
    result = CliRunner().invoke(main, ["import-chroma", str(CHROMA), str(tmp_path / "chroma")])
    assert result.exit_code == 0, result.output
    assert "imported 5 documents, 472 questions, 790 references" in result.output
    assert (tmp_path / "chroma" / "queries.jsonl").is_file()


def test_import_chroma_from_a_folder_without_the_data_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["import-chroma", str(tmp_path), str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_a_query_file_inside_the_folder_is_not_read_as_a_document(workspace):
    (workspace / "docs" / "questions.txt").write_text((workspace / "queries.jsonl").read_text())
    result = CliRunner().invoke(main, ["sweep", "docs", "--queries", "docs/questions.txt", "--strategy", "fixed",
                                       "--chunk-size", "64", "--out", "tuned.json"])
    assert result.exit_code == 0, result.output
    assert "questions.txt" not in read_config(workspace / "tuned.json")["corpus"]["files"]


def test_library_warnings_are_one_plain_line(workspace):
    result = sweep("--token-budget", "40")
    assert result.exit_code == 0, result.output
    assert ("Warning: 2 of the configurations may make chunks larger than the 40-token budget "
            "(fixed chunk_size=64, recursive chunk_size=64)") in result.output
    assert "UserWarning" not in result.output


def test_a_query_set_found_in_the_folder_is_used_and_not_counted_as_skipped(workspace):
    (workspace / "queries.jsonl").rename(workspace / "docs" / "queries.jsonl")
    result = CliRunner().invoke(main, ["sweep", "docs", "--strategy", "fixed", "--chunk-size", "64"])
    assert result.exit_code == 0, result.output
    assert "read 3 documents" in result.output and "1 query file" in result.output
    assert "unsupported" not in result.output and "generated" not in result.output


def test_a_sweep_on_generated_queries_says_so_and_records_the_generator(workspace):
    result = CliRunner().invoke(main, ["sweep", "docs", "--strategy", "fixed", "--chunk-size", "16,64",
                                       "--out", "tuned.json", "--report", "report.html"])
    assert result.exit_code == 0, result.output
    assert "Generated queries (cloze v3, seed 0" in result.output
    generator = read_config(workspace / "tuned.json")["queries"]["generator"]
    assert generator["name"] == "cloze" and generator["seed"] == 0
    assert generator["n"] == 1200  # as many as the measured agreement was measured with
    assert "generated (cloze v3, seed 0" in (workspace / "report.html").read_text()


BUNDLED = __import__("pathlib").Path(__file__).resolve().parents[1] / "corpora" / "docs"


def test_the_same_queries_pick_the_top_scorer_when_generated_and_the_cheapest_tie_when_ones_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # 400 queries: a set on which, with the grid below, the two rules choose differently.
    lines = CliRunner().invoke(main, ["queries", str(BUNDLED), "--n", "400", "--seed", "0"]).stdout.splitlines()
    (tmp_path / "generated.jsonl").write_text("\n".join(lines) + "\n")
    own = [{k: v for k, v in json.loads(line).items() if k != "generator"} for line in lines]
    (tmp_path / "own.jsonl").write_text("".join(json.dumps(q) + "\n" for q in own))
    grid = ["--strategy", "fixed", "--strategy", "recursive", "--chunk-size", "128,256", "--overlap", "0"]
    runs = {}
    for name in ("generated", "own"):
        result = CliRunner().invoke(main, ["sweep", str(BUNDLED), "--queries", f"{name}.jsonl", *grid,
                                           "--out", f"{name}.json", "--report", f"{name}.html"])
        assert result.exit_code == 0, result.output
        runs[name] = (read_config(tmp_path / f"{name}.json"), result.output, (tmp_path / f"{name}.html").read_text())
    (mine, mine_out, mine_html), (made, made_out, made_html) = runs["own"], runs["generated"]
    # The fixture's point: on these queries the cheapest tie is not the top scorer.
    assert mine["confidence"]["rule"] == "cheapest tie"
    assert mine["params"] != parse_configuration(mine["confidence"]["top_scorer"]).params, "pick a grid where they differ"
    assert "this is the cheapest of the" in mine_out and "the cheapest of them is recommended" in mine_html
    assert made["confidence"]["rule"] == "top scorer"
    assert made["params"] == parse_configuration(made["confidence"]["top_scorer"]).params
    assert made["confidence"]["tied"] == mine["confidence"]["tied"]  # the same test, another choice
    assert "a tie on generated queries is not a tie on your users' questions, so the top scorer is recommended" in made_out
    assert "the queries were generated, and a tie on them is not a tie on your users' questions" in made_html
