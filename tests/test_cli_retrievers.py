"""`chunkopt sweep --retriever endpoint` against a local server: counts of chunks embedded, the key kept out of every file."""

import socket

import pytest
from click.testing import CliRunner

from chunkopt.cli import main
from chunkopt.retrievers import cache, dense
from embedding_server import MODEL, EmbeddingServer
from test_cli import sweep, workspace  # noqa: F401  (the fixture, reused)


@pytest.fixture
def endpoint_env(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "cache_folder", lambda: tmp_path / "cache")
    monkeypatch.setattr(dense, "_stores", {})
    monkeypatch.setattr(dense, "_memory", {})
    with EmbeddingServer() as server:
        server.behaviour.api_key = "sk-do-not-write-me"
        monkeypatch.setenv("CHUNKOPT_ENDPOINT_URL", server.base_url)
        monkeypatch.setenv("CHUNKOPT_ENDPOINT_MODEL", MODEL)
        monkeypatch.setenv("CHUNKOPT_ENDPOINT_API_KEY", "sk-do-not-write-me")
        yield server


def test_endpoint_sweep_says_how_many_chunks_were_embedded_and_writes_no_key(workspace, endpoint_env):
    result = sweep("--retriever", "endpoint", "--verbose", "--out", "tuned.json", "--results", "results.jsonl",
                   "--report", "report.html")
    assert result.exit_code == 0, result.output
    assert " embedded=" in result.output and " cached=" in result.output
    written = [p for p in workspace.rglob("*") if p.is_file() and "cache" not in p.parts]
    assert any(p.name == "tuned.json" for p in written) and any(p.suffix == ".jsonl" for p in written)
    assert all(b"sk-do-not-write-me" not in p.read_bytes() for p in written)


def test_rerun_with_a_new_size_embeds_only_its_chunks(workspace, endpoint_env, monkeypatch):
    assert sweep("--retriever", "endpoint", "--no-checkpoint").exit_code == 0
    monkeypatch.setattr(dense, "_memory", {})  # as a new process would start
    args = ["sweep", "docs", "--queries", "queries.jsonl", "--strategy", "fixed", "--chunk-size", "16,32",
            "--overlap", "0", "--retriever", "endpoint", "--no-checkpoint", "--verbose"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = {line.split(":")[0]: line for line in result.output.splitlines() if " embedded=" in line}
    assert " embedded=0 " in next(v for k, v in lines.items() if "chunk_size=16" in k)
    assert " embedded=0 " not in next(v for k, v in lines.items() if "chunk_size=32" in k)


def test_a_refused_endpoint_is_one_line_and_exit_1(workspace, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CHUNKOPT_ENDPOINT_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("CHUNKOPT_ENDPOINT_MODEL", MODEL)
    monkeypatch.setattr(dense, "_memory", {})
    result = sweep("--retriever", "endpoint", "--no-checkpoint")
    assert result.exit_code == 1
    assert f"Error: endpoint: connection refused by http://127.0.0.1:{port}/v1/embeddings: is the server running?" in result.output
    assert "Traceback" not in result.output


def test_a_journal_written_with_another_endpoint_model_is_not_resumed(workspace, endpoint_env, monkeypatch):
    from chunkopt.corpus import load_corpus
    from chunkopt.queries import load_queries
    from chunkopt.sweep import Sweep

    corpus = load_corpus(workspace / "docs")
    queries = load_queries(workspace / "queries.jsonl", corpus)
    first = Sweep(retriever="endpoint").context_key(corpus, queries)
    monkeypatch.setenv("CHUNKOPT_ENDPOINT_MODEL", "another-model")
    assert Sweep(retriever="endpoint").context_key(corpus, queries) != first


def test_a_bad_cache_size_limit_stops_the_sweep_with_one_line(workspace, endpoint_env, monkeypatch):
    monkeypatch.setenv("CHUNKOPT_CACHE_MAX_BYTES", "-1")
    result = sweep("--retriever", "endpoint", "--no-checkpoint")
    assert result.exit_code == 2
    assert "Error: CHUNKOPT_CACHE_MAX_BYTES must be a positive integer number of bytes, got '-1'" in result.output


def test_retriever_parameters_are_given_as_words_and_recorded_in_the_tuned_json(workspace):
    import json

    result = sweep("--retriever", "bm25 k1=2.0 b=0.5", "--no-checkpoint", "--out", "tuned.json",
                   "--report", "report.html")
    assert result.exit_code == 0, result.output
    tuned = json.loads((workspace / "tuned.json").read_text())
    assert tuned["retriever"] == "bm25"
    assert tuned["retriever_params"] == {"k1": 2.0, "b": 0.5}
    assert "bm25 k1=2.0 b=0.5" in (workspace / "report.html").read_text()  # the setup box


@pytest.mark.parametrize("spec, message", [
    ("bm25 k1=-1", "k1"),
    ("bm25 q=1", "unknown parameter 'q'"),
    ("bm25 k1", "expected param=value, got 'k1'"),
    ("nosuch", "unknown retriever 'nosuch'"),
])
def test_a_bad_retriever_spec_is_a_usage_error_naming_the_flag(workspace, spec, message):
    result = sweep("--retriever", spec, "--no-checkpoint")
    assert result.exit_code == 2, result.output
    assert "--retriever" in result.output and message in result.output
    assert "Traceback" not in result.output


def test_the_setup_label_shows_hybrids_dense_parameters_and_reads_back_as_the_same_retriever():
    from chunkopt.retrievers import get_retriever, parse_retriever
    from chunkopt.sweep import Sweep

    hybrid = get_retriever("hybrid", dense_weight=2, dense_params={"precision": "fp32", "batch_size": 8})
    label = Sweep(retriever=hybrid).retriever_label
    assert label == """hybrid dense_weight=2.0 dense_params='{"precision": "fp32", "batch_size": 8}'"""
    assert parse_retriever(label).params == hybrid.params
