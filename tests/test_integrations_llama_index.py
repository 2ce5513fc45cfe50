"""TunedNodeParser: LlamaIndex's node parser interface giving exactly chunkopt's chunks (real llama-index-core)."""

import pytest

pytest.importorskip("llama_index.core")

from llama_index.core import Document  # noqa: E402
from llama_index.core.node_parser import NodeParser  # noqa: E402
from llama_index.core.schema import NodeRelationship  # noqa: E402

import strategies  # noqa: E402
from chunkopt.config import save_config  # noqa: E402
from chunkopt.corpus import load_corpus  # noqa: E402
from chunkopt.integrations.llama_index import TunedNodeParser  # noqa: E402

CHUNKER = strategies.get("fixed", chunk_size=40, overlap=20)


@pytest.fixture(scope="module")
def bundled():
    return load_corpus("corpora/docs")


def test_it_is_a_llama_index_node_parser():
    assert isinstance(TunedNodeParser(CHUNKER), NodeParser)


def test_nodes_are_the_chunks_with_exact_offsets_and_stable_ids(bundled):
    documents = [Document(id_=d.id, text=d.text, metadata={"file": d.id}) for d in bundled]
    nodes = TunedNodeParser(CHUNKER).get_nodes_from_documents(documents)
    expected = [c for d in bundled for c in CHUNKER.chunk(d.text, doc_id=d.id)]
    assert [(n.node_id, n.start_char_idx, n.end_char_idx, n.text) for n in nodes] == [
        (c.id, c.start, c.end, c.text) for c in expected]


def test_nodes_keep_the_documents_metadata_and_point_to_it():
    [node] = TunedNodeParser(CHUNKER).get_nodes_from_documents([Document(id_="tea", text="Tea.", metadata={"lang": "en"})])
    assert node.metadata["lang"] == "en" and node.metadata["chunk_id"] == node.node_id
    assert node.relationships[NodeRelationship.SOURCE].node_id == "tea" and node.ref_doc_id == "tea"


def test_offsets_stay_exact_where_the_same_text_repeats():
    text = "ab " * 60
    chunker = strategies.get("fixed", chunk_size=8, overlap=4)
    nodes = TunedNodeParser(chunker).get_nodes_from_documents([Document(id_="r", text=text)])
    assert [(n.start_char_idx, n.end_char_idx) for n in nodes] == [(c.start, c.end) for c in chunker.chunk(text)]
    assert len({n.node_id for n in nodes}) == len(nodes)


def test_from_config_builds_the_tuned_chunker(tmp_path):
    save_config({"schema_version": 1, "chunkopt_version": "0.1.0", "strategy": "fixed", "params": CHUNKER.params,
                 "tokenizer": "cl100k_base"}, tmp_path / "tuned.json")
    assert TunedNodeParser.from_config(tmp_path / "tuned.json").chunker == CHUNKER


def test_markdown_files_give_heading_paths(bundled):
    document = bundled["support/FAQ.md"]
    nodes = TunedNodeParser(CHUNKER).get_nodes_from_documents(
        [Document(id_="faq", text=document.text, metadata={"file_name": "FAQ.md"})])
    assert nodes[0].metadata["headings"] == ["Frequently Asked Questions"]
    assert {n.metadata["headings"][-1] for n in nodes} >= {"Accounts and billing", "The agent"}
