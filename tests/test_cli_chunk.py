"""`chunkopt chunk`: JSON Lines with stable ids, and incremental runs with a manifest."""

import json

import pytest
from click.testing import CliRunner

import strategies
from chunkopt.cli import main
from chunkopt.config import save_config

PARAGRAPHS = [f"Paragraph {n} is about subject {n}. " + " ".join(f"w{n}x{k}" for k in range(25)) + "."
              for n in range(6)]
DOCS = {"a.md": "\n\n".join(PARAGRAPHS), "b.txt": "A short note on tea.\n\nAnother note on coffee."}
PARAMS = {"chunk_size": 120, "overlap": 0, "encoding": "cl100k_base"}  # one paragraph (110 tokens) per chunk


def write_config(path, strategy="recursive", params=PARAMS):
    save_config({"schema_version": 1, "chunkopt_version": "0.1.0", "strategy": strategy, "params": params,
                 "tokenizer": "cl100k_base"}, path)


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    for name, text in DOCS.items():
        (tmp_path / "docs" / name).write_text(text, encoding="utf-8")
    write_config(tmp_path / "tuned.json")
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, list(args))


def lines(result):
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_chunk_lines_carry_id_doc_hash_config_and_metadata(workspace):
    result = run("chunk", "docs", "--config", "tuned.json")
    assert result.exit_code == 0, result.output
    records = lines(result)
    expected = strategies.get("recursive", **PARAMS).chunk(DOCS["a.md"], doc_id="a.md")
    assert [r["id"] for r in records if r["doc_id"] == "a.md"] == [c.id for c in expected]
    assert {"id", "doc_id", "doc_hash", "config", "index", "start", "end", "n_tokens", "text", "metadata"} <= set(records[0])
    assert {r["config"] for r in records} == {expected[0].config}


def test_a_first_manifest_run_upserts_everything_and_writes_the_manifest(workspace):
    result = run("chunk", "docs", "--config", "tuned.json", "--manifest", "state.json")
    assert result.exit_code == 0, result.output
    ops = lines(result)
    assert ops and {op["op"] for op in ops} == {"upsert"}
    state = json.loads((workspace / "state.json").read_text())
    assert [op["id"] for op in ops if op["doc_id"] == "a.md"] == state["documents"]["a.md"]["chunks"]


def test_a_second_manifest_run_prints_only_what_changed(workspace):
    run("chunk", "docs", "--config", "tuned.json", "--manifest", "state.json")
    (workspace / "docs" / "a.md").write_text(DOCS["a.md"].replace("w2x5", "w2x5 edited"), encoding="utf-8")
    (workspace / "docs" / "b.txt").unlink()
    result = run("chunk", "docs", "--config", "tuned.json", "--manifest", "state.json")
    assert result.exit_code == 0, result.output
    ops = lines(result)
    upserts = [op for op in ops if op["op"] == "upsert"]
    assert len(upserts) == 1 and "w2x5 edited" in upserts[0]["text"]
    assert {op["doc_id"] for op in ops if op["op"] == "delete"} == {"a.md", "b.txt"}
    assert "1 chunks upserted" in result.stderr


def test_a_manifest_from_another_configuration_rebuilds_and_says_so(workspace):
    run("chunk", "docs", "--config", "tuned.json", "--manifest", "state.json")
    write_config(workspace / "other.json", params={**PARAMS, "chunk_size": 250})
    result = run("chunk", "docs", "--config", "other.json", "--manifest", "state.json")
    assert result.exit_code == 0
    assert "from another configuration" in result.stderr and "full rebuild" in result.stderr
    assert json.loads((workspace / "state.json").read_text())["params"]["chunk_size"] == 250


def test_a_manifest_that_is_not_json_is_a_usage_error_and_stays_as_it_was(workspace):
    (workspace / "state.json").write_text("{not json")
    result = run("chunk", "docs", "--config", "tuned.json", "--manifest", "state.json")
    assert result.exit_code == 2 and result.stdout == ""
    assert "state.json is not valid JSON" in result.stderr and "Traceback" not in result.output
    assert (workspace / "state.json").read_text() == "{not json"


def test_an_unwritable_manifest_place_fails_before_any_operation(workspace):
    result = run("chunk", "docs", "--config", "tuned.json", "--manifest", "tuned.json/state.json")
    assert result.exit_code == 2 and result.stdout == ""
    assert "--manifest tuned.json/state.json" in result.stderr and "is a file" in result.stderr


def test_chunk_lines_carry_the_heading_path_of_markdown_documents(workspace):
    text = "# Guide\n\n" + PARAGRAPHS[0] + "\n\n## Install\n\n" + PARAGRAPHS[1]  # two chunks: one per section
    (workspace / "docs" / "guide.md").write_text(text, encoding="utf-8")
    records = [r for r in lines(run("chunk", "docs", "--config", "tuned.json")) if r["doc_id"] == "guide.md"]
    assert [r["metadata"]["headings"] for r in records] == [["Guide"], ["Guide", "Install"]]
