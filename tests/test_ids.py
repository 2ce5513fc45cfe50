"""Stable chunk ids: they follow a chunk's text, document and configuration, never its position."""

import hashlib

from hypothesis import given
from hypothesis import strategies as st

import chunkopt
import strategies
from strategies import ids

PARAGRAPHS = [f"Paragraph {n} talks about topic {n}: " + " ".join(f"word{n}x{k}" for k in range(30)) + "."
              for n in range(9)]
DOCUMENT = "\n\n".join(PARAGRAPHS)


def test_chunks_carry_id_doc_hash_and_config():
    chunker = strategies.get("recursive", chunk_size=64)
    chunks = chunker.chunk(DOCUMENT, doc_id="a.md")
    assert all(c.id and len(c.id) == ids.ID_CHARS for c in chunks)
    assert {c.doc_hash for c in chunks} == {hashlib.sha256(DOCUMENT.encode()).hexdigest()}
    assert {c.config for c in chunks} == {chunker.fingerprint}


def test_doc_hash_is_the_corpus_fingerprint_value(tmp_path):
    (tmp_path / "a.md").write_text(DOCUMENT, encoding="utf-8")
    corpus = chunkopt.load_corpus(tmp_path)
    assert corpus.fingerprint()["a.md"] == ids.doc_hash(DOCUMENT)


def test_editing_one_paragraph_keeps_the_ids_of_chunks_elsewhere():
    chunker = strategies.get("recursive", chunk_size=200)  # one paragraph (130 tokens) per chunk
    edited = DOCUMENT.replace(PARAGRAPHS[4], PARAGRAPHS[4] + " An added sentence about something else entirely.")
    before = {c.id: c.text for c in chunker.chunk(DOCUMENT, doc_id="a.md")}
    after = {c.id: c.text for c in chunker.chunk(edited, doc_id="a.md")}
    changed = {i for i, text in before.items() if "word4x" in text}
    assert len(changed) == 1 and len(before) == 9
    assert set(before) - changed <= set(after)
    assert not changed & set(after)


def test_an_id_does_not_depend_on_the_chunks_position():
    texts = ["alpha", "beta", "gamma"]
    assert ids.chunk_ids("d", "c", texts)[1:] == ids.chunk_ids("d", "c", texts[1:])


def test_repeated_texts_get_distinct_ids_numbered_by_occurrence():
    first, other, second = ids.chunk_ids("d", "c", ["same", "other", "same"])
    assert first == ids.chunk_id("d", "c", "same")
    assert second == ids.chunk_id("d", "c", "same", occurrence=1)
    assert len({first, other, second}) == 3


def test_the_same_text_in_another_document_has_another_id():
    assert ids.chunk_id("a.md", "c", "text") != ids.chunk_id("b.md", "c", "text")


def test_different_configurations_give_different_ids():
    a = strategies.get("recursive", chunk_size=64).chunk(DOCUMENT, doc_id="a.md")
    b = strategies.get("recursive", chunk_size=64, overlap=8).chunk(DOCUMENT, doc_id="a.md")
    assert a[0].text == b[0].text and a[0].id != b[0].id


def test_equal_configurations_have_equal_fingerprints():
    assert strategies.get("fixed", chunk_size=64).fingerprint == strategies.get("fixed", chunk_size=64.0).fingerprint


def test_fingerprint_covers_the_tokenizer_and_the_strategy():
    base = ids.fingerprint("fixed", {"chunk_size": 64, "encoding": "cl100k_base"})
    assert base != ids.fingerprint("fixed", {"chunk_size": 64, "encoding": "o200k_base"})
    assert base != ids.fingerprint("recursive", {"chunk_size": 64, "encoding": "cl100k_base"})


def test_fingerprint_covers_chunkopts_major_version(monkeypatch):
    base = ids.fingerprint("fixed", {"chunk_size": 64})
    monkeypatch.setattr(ids, "chunkopt_major", lambda: "99")
    assert ids.fingerprint("fixed", {"chunk_size": 64}) != base


def test_chunkopt_major_is_the_installed_major_version():
    assert ids.chunkopt_major() == chunkopt.__version__.split(".")[0]


@given(st.lists(st.text(max_size=5), max_size=12), st.text(max_size=5))
def test_ids_within_a_document_are_unique_and_survive_an_insertion_in_front(texts, inserted):
    """Prepending a text changes no other id unless it repeats a text (then occurrences renumber)."""
    before = ids.chunk_ids("d", "c", texts)
    after = ids.chunk_ids("d", "c", [inserted, *texts])
    assert len(set(before)) == len(before)
    for text, chunk_id, new_id in zip(texts, before, after[1:]):
        if text != inserted:
            assert new_id == chunk_id
