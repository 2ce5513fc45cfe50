"""The command line under bad or unusual input: nothing the user had is lost, no traceback, flags as written."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_cli import DOCS, sweep, workspace  # noqa: F401 (workspace is a fixture)

from chunkopt.cli import main

ROOT = Path(__file__).resolve().parents[1]


def one_config(*extra):
    return CliRunner().invoke(main, ["sweep", "docs", "--queries", "queries.jsonl", "--strategy", "fixed",
                                     "--chunk-size", "64", "--overlap", "0", *extra])


def error_line(result):
    assert "Traceback" not in result.output
    return result.output.strip().splitlines()[-1]


# ---- 1. outputs never overwrite inputs or each other ---------------------------------------


def test_results_over_the_query_file_is_refused_and_the_queries_are_kept(workspace):
    before = (workspace / "queries.jsonl").read_bytes()
    result = sweep("--results", "queries.jsonl")
    assert result.exit_code == 2
    assert error_line(result) == (
        "Error: --results queries.jsonl would overwrite the input --queries queries.jsonl; write the output elsewhere"
    )
    assert (workspace / "queries.jsonl").read_bytes() == before


def test_two_outputs_on_one_path_are_refused_naming_both(workspace):
    result = sweep("--out", "same.json", "--report", "same.html", "--results", "same.json")
    assert result.exit_code == 2
    assert error_line(result) == "Error: --out and --results are the same file (same.json); give each its own path"


def test_output_over_a_document_of_the_folder_is_refused(workspace):
    result = sweep("--results", "docs/notes/tax.txt")
    assert result.exit_code == 2
    assert "would overwrite the input DOCS docs" in error_line(result)
    assert (workspace / "docs/notes/tax.txt").read_text() == DOCS["notes/tax.txt"]


def test_new_document_like_output_inside_the_folder_is_refused(workspace):
    result = sweep("--report", "docs/report.html")
    assert result.exit_code == 2
    assert error_line(result) == (
        "Error: --report docs/report.html is inside the input DOCS docs, so the next run would read it as a document; "
        "write the output elsewhere"
    )


def test_no_recommendation_writes_no_tuned_config_keeps_the_old_one_and_says_which_files_show_why(workspace):
    (workspace / "tuned.json").write_text("the user's old file")
    result = sweep("--max-chunks", "1", "--out", "tuned.json", "--results", "r.jsonl", "--report", "r.html")
    assert result.exit_code == 1
    assert "no tuned configuration written (tuned.json is left as it was); wrote r.jsonl, r.html, which show why" in result.output
    assert (workspace / "tuned.json").read_text() == "the user's old file"
    assert "no configuration satisfies the constraints" in (workspace / "r.html").read_text()


def test_outputs_leave_no_temporary_files_beside_them(workspace):
    assert sweep("--out", "out/tuned.json", "--results", "out/r.csv", "--report", "out/r.html").exit_code == 0
    assert sorted(p.name for p in (workspace / "out").iterdir()) == ["r.csv", "r.html", "tuned.json"]


# ---- 2. output and checkpoint paths checked before any work ---------------------------------


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_unwritable_out_is_refused_before_the_documents_are_read(workspace):
    result = sweep("--out", "/proc/x.json")
    assert result.exit_code == 2
    assert error_line(result).startswith("Error: --out /proc/x.json: cannot write in /proc")
    assert "read 3 documents" not in result.output


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_unwritable_checkpoint_folder_is_refused_before_any_work(workspace):
    result = sweep("--checkpoint-dir", "/proc/ck")
    assert result.exit_code == 2
    assert error_line(result).startswith("Error: --checkpoint-dir /proc/ck: cannot write in /proc")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes in read-only folders")
def test_read_only_output_folder_is_refused_before_any_work(workspace):
    (workspace / "locked").mkdir(mode=0o555)
    result = sweep("--report", "locked/report.html")
    assert result.exit_code == 2
    assert "cannot write in" in error_line(result)


def test_no_checkpoint_keeps_no_journal(workspace):
    assert sweep("--no-checkpoint").exit_code == 0
    assert not (workspace / ".chunkopt").exists()


# ---- 3. chunk reports what it skipped ------------------------------------------------------


def test_chunk_reports_skipped_files_on_stderr_and_names_them_with_verbose(workspace):
    assert sweep("--out", "tuned.json").exit_code == 0
    (workspace / "docs" / "blob.txt").write_bytes(b"\x00\x01binary")
    (workspace / "docs" / "empty.md").write_text("  \n")
    result = CliRunner().invoke(main, ["chunk", "docs", "--config", "tuned.json", "-v"])
    assert result.exit_code == 0
    assert "read 3 documents (" in result.stderr
    assert "skipped 2: 1 binary (blob.txt), 1 empty (empty.md)" in result.stderr
    assert "skipped blob.txt: binary" in result.stderr.splitlines()
    assert all(json.loads(line)["doc_id"] in DOCS for line in result.stdout.splitlines())


# ---- 4. query files in other encodings -----------------------------------------------------


def test_query_file_in_utf16_without_a_bom_is_one_line_naming_it(workspace):
    text = (workspace / "queries.jsonl").read_text()
    (workspace / "queries.jsonl").write_bytes(text.encode("utf-16-le"))
    result = sweep()
    assert result.exit_code == 2
    assert error_line(result) == (
        "Error: query file queries.jsonl is not UTF-8 text, possibly UTF-16 without a byte-order mark; "
        "chunkopt reads UTF-8 text (or UTF-16 with a byte-order mark)"
    )


def test_query_file_in_utf16_with_a_bom_is_read(workspace):
    text = (workspace / "queries.jsonl").read_text()
    (workspace / "queries.jsonl").write_bytes(text.encode("utf-16"))
    assert sweep().exit_code == 0


def test_query_file_in_cp1252_is_read_with_a_warning(workspace):
    lines = (workspace / "queries.jsonl").read_text().splitlines()
    row = json.loads(lines[0])
    row["query"] = "café starter"
    lines[0] = json.dumps(row, ensure_ascii=False)
    (workspace / "queries.jsonl").write_bytes("\n".join(lines).encode("cp1252"))
    result = sweep()
    assert result.exit_code == 0
    assert "Warning: queries.jsonl is not valid UTF-8; read it as cp1252" in result.output


# ---- 5. user text is printed as is ---------------------------------------------------------


def test_paths_with_brackets_are_printed_as_given(workspace):
    result = sweep("--checkpoint-dir", "ck[/red]", "--out", "tuned[v2].json")
    assert result.exit_code == 0, result.output
    assert "wrote tuned[v2].json" in result.output
    assert (workspace / "tuned[v2].json").exists() and (workspace / "ck[/red]").is_dir()


# ---- 6. flags behave as written ------------------------------------------------------------


def test_strategy_takes_a_comma_list(workspace):
    result = CliRunner().invoke(main, ["sweep", "docs", "--queries", "queries.jsonl", "--strategy", "fixed,recursive",
                                       "--chunk-size", "64", "--overlap", "0", "--results", "r.jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (workspace / "r.jsonl").read_text().splitlines()]
    assert sorted(r["strategy"] for r in rows) == ["fixed", "recursive"]


def test_empty_chunk_size_is_a_usage_error(workspace):
    result = CliRunner().invoke(main, ["sweep", "docs", "--queries", "queries.jsonl", "--chunk-size", ""])
    assert result.exit_code == 2
    assert "--chunk-size" in result.output and "got an empty value" in result.output


def test_token_overlap_for_the_sentence_strategy_is_refused_with_the_reason(workspace):
    result = CliRunner().invoke(main, ["sweep", "docs", "--queries", "queries.jsonl", "--strategy", "sentence",
                                       "--overlap", "3"])
    assert result.exit_code == 2
    assert error_line(result).startswith("Error: --overlap counts tokens, but sentence's overlap counts sentences")


def test_jobs_zero_names_the_flag_before_the_documents_are_read(workspace):
    result = sweep("--jobs", "0")
    assert result.exit_code == 2
    assert "'--jobs': must be a positive number of processes or -1 for all cores, got 0" in result.output
    assert "n_jobs" not in result.output


def test_grid_file_encoding_and_a_different_encoding_flag_are_refused_as_a_conflict(workspace):
    (workspace / "grid.json").write_text(json.dumps([{"strategy": "fixed", "chunk_size": 64, "encoding": ["gpt2"]}]))
    result = CliRunner().invoke(main, ["sweep", "docs", "--queries", "queries.jsonl", "--grid", "grid.json",
                                       "--encoding", "cl100k_base"])
    assert result.exit_code == 2
    assert "--encoding cl100k_base conflicts with the grid's encoding (gpt2): give one of them" in result.output


def test_yaml_grid_is_refused_naming_the_formats_read(workspace):
    (workspace / "grid.yaml").write_text("- strategy: fixed\n")
    result = CliRunner().invoke(main, ["sweep", "docs", "--queries", "queries.jsonl", "--grid", "grid.yaml"])
    assert result.exit_code == 2
    assert error_line(result) == "Error: grid file grid.yaml: chunkopt reads grids in JSON (.json) or TOML (.toml), not YAML"


# ---- 7. Ctrl-C at any moment ---------------------------------------------------------------

INTERRUPT = textwrap.dedent("""
    import signal, sys
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even in a background job (SIGINT ignored)
    import {module} as target
    def interrupted(*args, **kwargs):
        signal.raise_signal(signal.SIGINT)  # a real SIGINT, delivered while this step runs
    target.{function} = interrupted
    from chunkopt.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("module, function, extra", [
    ("chunkopt.corpus", "_walk", ["--queries", "queries.jsonl"]),  # reading the documents
    ("chunkopt.querygen", "generate_queries", []),  # generating queries
])
def test_ctrl_c_before_the_sweep_exits_130_without_a_traceback(workspace, module, function, extra):
    script = INTERRUPT.format(module=module, function=function)
    done = subprocess.run([sys.executable, "-c", script, "sweep", "docs", *extra, "--strategy", "fixed"],
                          capture_output=True, text=True, timeout=120, cwd=workspace)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "Aborted!" not in done.stderr
    assert "Interrupted; no output was written. Rerun the same command to start again" in done.stderr


# ---- 8. messages are whole lines when stderr is not a terminal -----------------------------


def test_messages_are_not_wrapped_at_80_columns_in_a_log(workspace):
    deep = "checkpoints/" + "a-rather-long-folder-name/" * 4
    assert sweep("--checkpoint-dir", deep).exit_code == 0
    result = sweep("--checkpoint-dir", deep)
    line = next(line for line in result.output.splitlines() if "resumed from" in line)
    assert line.startswith("4 configurations scored on 3 queries in ") and line.endswith(".jsonl)")


# ---- 11. smaller ones ----------------------------------------------------------------------


def test_one_configuration_is_singular(workspace):
    result = one_config()
    assert result.exit_code == 0
    assert "1 configuration scored on 3 queries in " in result.output


def test_report_with_another_extension_is_refused(workspace):
    result = sweep("--report", "x.pdf")
    assert result.exit_code == 2
    assert "the report is HTML: give a name ending in .html or .htm, got 'x.pdf'" in result.output
    assert not (workspace / "x.pdf").exists()


def test_strategies_says_overlap_must_be_less_than_chunk_size():
    output = CliRunner().invoke(main, ["strategies"]).output
    assert "overlap (default 0 tokens; an integer >= 0, less than chunk_size)" in output


def test_queries_per_document_spreads_them_over_every_document(workspace):
    result = CliRunner().invoke(main, ["queries", "docs", "--n", "3", "--per-document"])
    assert result.exit_code == 0
    docs = [json.loads(line)["references"][0]["doc"] for line in result.output.splitlines() if line.startswith("{")]
    assert sorted(docs) == sorted(DOCS)
    assert "generated 3 queries evenly per document (" in result.output


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_makefile_stamp_names_the_extras_with_dashes():
    done = subprocess.run(["make", "-n", "-B", "install", "EXTRAS=test,pdf"], capture_output=True, text=True, cwd=ROOT)
    assert "touch .venv/.installed-test-pdf\n" in done.stdout
