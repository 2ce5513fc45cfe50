"""`chunkopt index`: a real Chroma database built with the packaged all-MiniLM-L6-v2, then updated incrementally."""

import pytest
from click.testing import CliRunner

pytest.importorskip("chromadb")
pytest.importorskip("sentence_transformers")
pytest.importorskip("all_minilm_l6_v2")

import chromadb  # noqa: E402

from chunkopt.cli import main  # noqa: E402
from chunkopt.config import save_config  # noqa: E402
from chunkopt.index import sentence_embedder  # noqa: E402

DOCS = {  # two chunks each at chunk_size=24: the heading and first paragraph, then the second paragraph
    "bread.md": "# Bread\n\nSourdough needs a lively starter fed with flour and water every day.\n\n"
    "Bake the loaf in a hot Dutch oven so the crust blisters.",
    "stars.md": "# Stars\n\nA red giant is a dying star that has exhausted its hydrogen.\n\n"
    "Neutron stars spin rapidly and emit beams of radio waves we observe as pulsars.",
}


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    for name, text in DOCS.items():
        (tmp_path / "docs" / name).write_text(text, encoding="utf-8")
    save_config({"schema_version": 1, "chunkopt_version": "0.1.0", "strategy": "recursive", "retriever": "bm25",
                 "params": {"chunk_size": 24, "overlap": 0, "encoding": "cl100k_base"}, "tokenizer": "cl100k_base"},
                tmp_path / "tuned.json")
    return tmp_path


def index(*extra):
    return CliRunner().invoke(main, ["index", "docs", "--config", "tuned.json", "--into", "chroma:db", *extra])


def test_index_builds_a_chroma_collection_that_answers_queries(workspace):
    result = index()
    assert result.exit_code == 0, result.output
    assert "indexed into chroma:db (collection chunkopt): 4 added, 0 kept, 0 deleted" in result.stderr
    collection = chromadb.PersistentClient(path="db").get_collection("chunkopt")
    query = sentence_embedder("all-MiniLM-L6-v2")(["what are pulsars"]).tolist()
    found = collection.query(query_embeddings=query, n_results=1, include=["documents", "metadatas"])
    assert "pulsars" in found["documents"][0][0] and found["metadatas"][0][0]["doc_id"] == "stars.md"


def test_a_second_run_after_editing_one_file_touches_only_its_changed_chunk(workspace):
    index()
    (workspace / "docs" / "bread.md").write_text(DOCS["bread.md"].replace("every day", "twice a day"), encoding="utf-8")
    result = index()
    assert result.exit_code == 0, result.output
    assert "1 added, 3 kept, 1 deleted; 1 documents changed or new, 0 removed, 1 unchanged" in result.stderr


def test_a_dry_run_prints_the_plan_and_writes_nothing(workspace):
    result = index("--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["bread.md: 2 to add, 0 kept, 0 to delete", "stars.md: 2 to add, 0 kept, 0 to delete"]
    assert "would index into chroma:db" in result.stderr and not (workspace / "db").exists()


def test_into_something_other_than_chroma_is_a_usage_error(workspace):
    result = index_into("qdrant:db")
    assert result.exit_code == 2 and "expected chroma:PATH, got 'qdrant:db'" in result.output


def test_a_folder_that_is_no_database_is_a_usage_error_and_is_left_alone(workspace):
    (workspace / "notes").mkdir()
    (workspace / "notes" / "todo.txt").write_text("keep me")
    result = index_into("chroma:notes")
    assert result.exit_code == 2 and "holds no Chroma database" in result.stderr and "Traceback" not in result.output
    assert [p.name for p in (workspace / "notes").iterdir()] == ["todo.txt"]


def index_into(place):
    return CliRunner().invoke(main, ["index", "docs", "--config", "tuned.json", "--into", place])
