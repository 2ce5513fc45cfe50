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
PARAMS = {"chunk_size": 40, "overlap": 0, "encoding": "cl100k_base"}


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
