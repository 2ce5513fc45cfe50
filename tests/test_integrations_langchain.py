"""TunedTextSplitter: LangChain's splitter interface giving exactly chunkopt's chunks (real langchain-text-splitters)."""

import pytest

pytest.importorskip("langchain_text_splitters")

from langchain_core.documents import Document  # noqa: E402
from langchain_text_splitters import TextSplitter  # noqa: E402

import strategies  # noqa: E402
from chunkopt.config import save_config  # noqa: E402
from chunkopt.corpus import load_corpus  # noqa: E402
from chunkopt.integrations.langchain import TunedTextSplitter  # noqa: E402

CHUNKER = strategies.get("recursive", chunk_size=48, overlap=12)
REPEATED = "\n\n".join(["The same paragraph, word for word, appears here again."] * 5 + ["A different ending."])


@pytest.fixture(scope="module")
def bundled():
    return load_corpus("corpora/docs")


def test_it_is_a_langchain_text_splitter():
    assert isinstance(TunedTextSplitter(CHUNKER), TextSplitter)


def test_split_text_gives_the_chunkers_texts(bundled):
    document = bundled["product/configuration-reference.md"]
    assert TunedTextSplitter(CHUNKER).split_text(document.text) == [c.text for c in CHUNKER.chunk(document.text)]


def test_create_documents_carry_exact_offsets_and_the_stable_id(bundled):
    document = bundled["support/FAQ.md"]
    docs = TunedTextSplitter(CHUNKER).create_documents([document.text], [{"source": "support/FAQ.md"}])
    chunks = CHUNKER.chunk(document.text, doc_id="support/FAQ.md")
    assert [(d.id, d.metadata["start_index"], d.metadata["end_index"]) for d in docs] == [(c.id, c.start, c.end) for c in chunks]
    assert all(document.text[d.metadata["start_index"]:d.metadata["end_index"]] == d.page_content for d in docs)
    assert docs[0].metadata["source"] == "support/FAQ.md" and docs[0].metadata["chunk_id"] == chunks[0].id


def test_start_index_is_exact_where_the_same_text_repeats():
    docs = TunedTextSplitter(strategies.get("recursive", chunk_size=14)).create_documents([REPEATED])
    assert [d.metadata["start_index"] for d in docs] == [c.start for c in strategies.get("recursive", chunk_size=14).chunk(REPEATED)]
    assert len({d.id for d in docs}) == len(docs) == 6


def test_split_documents_takes_the_document_id_for_the_chunk_ids():
    splitter = TunedTextSplitter(CHUNKER)
    [by_id] = splitter.split_documents([Document(id="doc-1", page_content="Tea is brewed.", metadata={"lang": "en"})])
    [by_source] = splitter.split_documents([Document(page_content="Tea is brewed.", metadata={"source": "tea.md"})])
    assert by_id.id == CHUNKER.chunk("Tea is brewed.", doc_id="doc-1")[0].id and by_id.metadata["lang"] == "en"
    assert by_source.id == CHUNKER.chunk("Tea is brewed.", doc_id="tea.md")[0].id


def test_transform_documents_is_split_documents():
    doc = Document(page_content=REPEATED, metadata={"source": "r.md"})
    splitter = TunedTextSplitter(CHUNKER)
    assert splitter.transform_documents([doc]) == splitter.split_documents([doc])


def test_from_config_builds_the_tuned_chunker(tmp_path):
    save_config({"schema_version": 1, "chunkopt_version": "0.1.0", "strategy": "recursive", "params": CHUNKER.params,
                 "tokenizer": "cl100k_base"}, tmp_path / "tuned.json")
    splitter = TunedTextSplitter.from_config(tmp_path / "tuned.json")
    assert splitter.chunker == CHUNKER and splitter.split_text(REPEATED) == [c.text for c in CHUNKER.chunk(REPEATED)]


def test_markdown_sources_give_heading_paths(bundled):
    document = bundled["product/configuration-reference.md"]
    docs = TunedTextSplitter(CHUNKER).create_documents([document.text], [{"source": "docs/configuration-reference.md"}])
    assert docs[0].metadata["headings"] == ["Lumen Relay Agent — Configuration Reference"]
    assert any(d.metadata["headings"][-1] == "`listen`" for d in docs)


def test_the_format_can_be_given_for_texts_without_a_source():
    splitter = TunedTextSplitter(strategies.get("recursive", chunk_size=14), format="markdown")
    [first, second] = splitter.create_documents(["# Tea\n\nBrew it hot, three minutes.\n\n## Cold\n\nBrew it cold overnight."])
    assert (first.metadata["headings"], second.metadata["headings"]) == (["Tea"], ["Tea", "Cold"])
