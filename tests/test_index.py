"""build_index into a real embedded Chroma database (chromadb in a temporary folder), incremental runs."""

import numpy as np
import pytest

pytest.importorskip("chromadb")

import chromadb  # noqa: E402
from sklearn.feature_extraction.text import HashingVectorizer  # noqa: E402

import strategies  # noqa: E402
from chunkopt.corpus import Corpus, Document  # noqa: E402
from chunkopt.index import StoreError, build_index  # noqa: E402
from chunkopt.integrations.chroma_store import ChromaStore  # noqa: E402
from strategies.base import ParameterError  # noqa: E402

PARAGRAPHS = [f"Paragraph {n} is about subject {n}. " + " ".join(f"w{n}x{k}" for k in range(25)) + "."
              for n in range(6)]
TEXT = "\n\n".join(PARAGRAPHS)
CHUNKER = strategies.get("recursive", chunk_size=120)  # one paragraph (110 tokens) per chunk
_HASHING = HashingVectorizer(n_features=64, alternate_sign=False, norm="l2")


def embed(texts):
    """A real, deterministic 64-dimension embedding (hashed word counts), so tests need no model."""
    return _HASHING.transform(texts).toarray().astype(np.float32)


def corpus(**texts):
    return Corpus([Document(doc_id, text) for doc_id, text in texts.items()])


def collection(path, name="chunkopt"):
    return chromadb.PersistentClient(path=str(path)).get_collection(name)


def test_a_first_run_writes_every_chunk_with_its_embedding_text_and_metadata(tmp_path):
    report = build_index(corpus(a=TEXT, b="Tea is brewed."), CHUNKER, ChromaStore(tmp_path / "db", embedder="hash"), embed)
    expected = CHUNKER.chunk(TEXT, doc_id="a") + CHUNKER.chunk("Tea is brewed.", doc_id="b")
    assert report.added == len(expected) and report.kept == report.deleted == 0
    held = collection(tmp_path / "db").get(ids=[expected[1].id], include=["documents", "metadatas", "embeddings"])
    assert held["documents"] == [expected[1].text]
    assert held["metadatas"][0]["start"] == expected[1].start and held["metadatas"][0]["doc_id"] == "a"
    assert np.allclose(held["embeddings"][0], embed([expected[1].text])[0])


def test_the_collection_answers_a_query_with_the_matching_chunk(tmp_path):
    build_index(corpus(a=TEXT), CHUNKER, ChromaStore(tmp_path / "db", embedder="hash"), embed)
    found = collection(tmp_path / "db").query(query_embeddings=embed(["w4x3 w4x7 w4x9"]).tolist(), n_results=1)
    assert "w4x3" in found["documents"][0][0]


def test_a_second_run_after_an_edit_touches_only_the_changed_chunks(tmp_path):
    build_index(corpus(a=TEXT, b="Tea is brewed."), CHUNKER, ChromaStore(tmp_path / "db", embedder="hash"), embed)
    edited = TEXT.replace("w2x5", "w2x5 edited")
    report = build_index(corpus(a=edited, b="Tea is brewed."), CHUNKER, ChromaStore(tmp_path / "db", embedder="hash"), embed)
    assert (report.added, report.deleted, report.kept) == (1, 1, len(PARAGRAPHS))
    held = collection(tmp_path / "db").get(include=["documents", "metadatas"])
    now = CHUNKER.chunk(edited, doc_id="a") + CHUNKER.chunk("Tea is brewed.", doc_id="b")
    assert sorted(held["ids"]) == sorted(c.id for c in now)
    starts = {i: m["start"] for i, m in zip(held["ids"], held["metadatas"])}
    assert all(starts[c.id] == c.start for c in now)  # kept chunks after the edit have their new offsets


def test_an_unchanged_corpus_writes_nothing(tmp_path):
    build_index(corpus(a=TEXT), CHUNKER, ChromaStore(tmp_path / "db", embedder="hash"), embed)
    report = build_index(corpus(a=TEXT), CHUNKER, ChromaStore(tmp_path / "db", embedder="hash"), embed)
    assert (report.added, report.deleted, report.plan.unchanged) == (0, 0, 1)


def test_a_removed_document_loses_its_chunks(tmp_path):
    build_index(corpus(a=TEXT, b="Tea is brewed."), CHUNKER, ChromaStore(tmp_path / "db", embedder="hash"), embed)
    report = build_index(corpus(a=TEXT), CHUNKER, ChromaStore(tmp_path / "db", embedder="hash"), embed)
    assert report.deleted == 1
    assert {m["doc_id"] for m in collection(tmp_path / "db").get(include=["metadatas"])["metadatas"]} == {"a"}


def test_another_configuration_rebuilds_the_collection(tmp_path):
    build_index(corpus(a=TEXT), CHUNKER, ChromaStore(tmp_path / "db", embedder="hash"), embed)
    other = strategies.get("recursive", chunk_size=250)
    report = build_index(corpus(a=TEXT), other, ChromaStore(tmp_path / "db", embedder="hash"), embed)
    assert report.plan.rebuild
    assert sorted(collection(tmp_path / "db").get()["ids"]) == sorted(c.id for c in other.chunk(TEXT, doc_id="a"))


def test_a_dry_run_writes_nothing_and_says_what_it_would_do(tmp_path):
    report = build_index(corpus(a=TEXT), CHUNKER, ChromaStore(tmp_path / "db", embedder="hash"), None, dry_run=True)
    assert report.added == len(PARAGRAPHS) and report.lines() == [f"a: {len(PARAGRAPHS)} to add, 0 kept, 0 to delete"]
    assert not (tmp_path / "db").exists()


def test_writes_go_in_batches(tmp_path):
    report = build_index(corpus(a=TEXT), CHUNKER, ChromaStore(tmp_path / "db", embedder="hash"), embed, batch_size=2)
    assert report.added == len(collection(tmp_path / "db").get()["ids"]) == len(PARAGRAPHS)


def test_an_interrupted_run_is_completed_by_the_next(tmp_path):
    calls = []

    def failing_embed(texts):
        calls.append(len(texts))
        if len(calls) == 2:
            raise RuntimeError("the embedder crashed")
        return embed(texts)

    with pytest.raises(RuntimeError):
        build_index(corpus(a=TEXT), CHUNKER, ChromaStore(tmp_path / "db", embedder="hash"), failing_embed, batch_size=2)
    report = build_index(corpus(a=TEXT), CHUNKER, ChromaStore(tmp_path / "db", embedder="hash"), embed, batch_size=2)
    assert (report.added, report.kept) == (len(PARAGRAPHS) - 2, 2)
    assert sorted(collection(tmp_path / "db").get()["ids"]) == sorted(c.id for c in CHUNKER.chunk(TEXT, doc_id="a"))


def test_another_embedder_is_refused_naming_the_one_the_collection_holds(tmp_path):
    build_index(corpus(a=TEXT), CHUNKER, ChromaStore(tmp_path / "db", embedder="hash"), embed)
    with pytest.raises(StoreError, match="holds embeddings of 'hash', not 'other'"):
        build_index(corpus(a=TEXT), CHUNKER, ChromaStore(tmp_path / "db", embedder="other"), embed)


def test_a_collection_chunkopt_did_not_write_is_refused(tmp_path):
    chromadb.PersistentClient(path=str(tmp_path / "db")).create_collection("chunkopt").add(
        ids=["x"], embeddings=[[0.1] * 64], documents=["foreign"])
    with pytest.raises(StoreError, match="holds records chunkopt did not write"):
        build_index(corpus(a=TEXT), CHUNKER, ChromaStore(tmp_path / "db", embedder="hash"), embed)


def test_a_folder_that_is_no_chroma_database_is_refused(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(StoreError, match="holds no Chroma database"):
        ChromaStore(tmp_path / "notes")


def test_a_file_is_refused_as_a_database(tmp_path):
    (tmp_path / "db").write_text("")
    with pytest.raises(StoreError, match="is a file"):
        ChromaStore(tmp_path / "db")


def test_a_read_only_folder_is_refused(tmp_path):
    import os

    (tmp_path / "ro").mkdir()
    os.chmod(tmp_path / "ro", 0o500)
    try:
        if os.access(tmp_path / "ro", os.W_OK):  # root ignores permissions: nothing to test then
            pytest.skip("running as root")
        with pytest.raises(ParameterError, match="chroma:.*ro.*cannot write"):
            ChromaStore(tmp_path / "ro" / "db")
    finally:
        os.chmod(tmp_path / "ro", 0o700)


@pytest.mark.parametrize("name", ["ab", "-chunks", "my chunks"])
def test_a_collection_name_chroma_would_refuse_is_refused_first(tmp_path, name):
    with pytest.raises(StoreError, match="collection name must be 3-512 characters"):
        ChromaStore(tmp_path / "db", collection=name)
