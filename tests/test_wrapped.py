"""strategies.wrap and "langchain:ClassName" names: foreign splitters as strategies, offsets by forward cursor."""

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies
from chunkopt.corpus import load_corpus
from strategies.base import ParameterError
from strategies.wrapped import PieceNotFound, recover_offsets

TEXT = "Tea is brewed.\n\nCoffee is ground.\n\nTea is brewed."


def paragraphs(text):
    return text.split("\n\n")


@pytest.fixture(scope="module")
def bundled():
    return load_corpus("corpora/docs")


def test_a_callable_becomes_a_strategy_with_exact_offsets_and_chunkopt_token_counts():
    chunks = strategies.wrap(paragraphs, name="paragraphs").chunk(TEXT)
    assert [(c.start, c.end) for c in chunks] == [(0, 14), (16, 33), (35, 49)]
    assert [c.n_tokens for c in chunks] == strategies.get_tokenizer().count_many([c.text for c in chunks])


def test_a_repeated_piece_is_found_after_the_previous_one():
    assert recover_offsets("ab ab ab", [("ab", None, None)] * 3, "s") == [(0, 2), (3, 5), (6, 8)]


def test_an_overlapping_piece_is_found_inside_the_previous_one():
    assert recover_offsets("one two three", [("one two", None, None), ("two three", None, None)], "s") == [(0, 7), (4, 13)]


def test_a_piece_with_rewritten_whitespace_is_matched_whitespace_tolerantly():
    [(start, end)] = recover_offsets("x  Tea   is\nbrewed. y", [("Tea is brewed.", None, None)], "s")
    assert (start, end) == (3, 19)


def test_empty_and_blank_pieces_are_dropped():
    assert recover_offsets("a b", [("", None, None), ("a", None, None), ("  ", None, None)], "s") == [(0, 1)]


def test_a_piece_not_in_the_document_is_refused_naming_the_splitter_document_and_piece():
    shouting = strategies.wrap(lambda text: [text.upper()], name="shouting")
    with pytest.raises(PieceNotFound, match=r"shouting: piece 0 \('TEA IS BREWED.*'\) does not occur.*document 'a.md'"):
        shouting.chunk(TEXT, doc_id="a.md")


def test_a_splitter_returning_no_list_of_strings_is_refused():
    with pytest.raises(ParameterError, match="must return a list of strings"):
        strategies.wrap(lambda text: text, name="whole").chunk(TEXT)


def test_an_object_that_cannot_split_is_refused_when_wrapped():
    with pytest.raises(TypeError, match="cannot wrap 42"):
        strategies.wrap(42)


def test_the_wrapped_name_goes_into_the_chunk_ids():
    a = strategies.wrap(paragraphs, name="a").chunk(TEXT)
    b = strategies.wrap(paragraphs, name="b").chunk(TEXT)
    assert a[0].text == b[0].text and a[0].id != b[0].id


@given(st.text(alphabet="ab \n", max_size=60), st.lists(st.integers(0, 60), max_size=8))
def test_recovered_offsets_slice_to_the_pieces_and_move_forward(text, cuts):
    points = sorted({0, len(text), *(min(c, len(text)) for c in cuts)})
    pieces = [(text[a:b], None, None) for a, b in zip(points, points[1:])]
    ranges = recover_offsets(text, pieces, "s")
    kept = [p for p, _, _ in pieces if p.strip()]
    assert [text[a:b] for a, b in ranges] == kept
    assert all(a1 < a2 for (a1, _), (a2, _) in zip(ranges, ranges[1:]))


# ---- real foreign splitters ---------------------------------------------------------------------


def test_langchains_recursive_splitter_gives_its_own_chunks_with_exact_offsets(bundled):
    splitters = pytest.importorskip("langchain_text_splitters")
    splitter = splitters.RecursiveCharacterTextSplitter(chunk_size=400, chunk_overlap=80)
    wrapped = strategies.wrap(splitter)
    for document in bundled:
        chunks = wrapped.chunk(document.text, doc_id=document.id)
        assert [c.text for c in chunks] == [p for p in splitter.split_text(document.text) if p.strip()]
        assert all(document.text[c.start:c.end] == c.text for c in chunks)
    assert wrapped.name == "langchain_text_splitters:RecursiveCharacterTextSplitter"


def test_a_langchain_name_builds_the_splitter_from_its_constructor_parameters():
    pytest.importorskip("langchain_text_splitters")
    chunker = strategies.get("langchain:RecursiveCharacterTextSplitter", chunk_size=1000, chunk_overlap=200)
    assert chunker.splitter._chunk_size == 1000 and chunker.splitter._chunk_overlap == 200
    assert {"chunk_size", "chunk_overlap", "separators", "encoding"} <= {p.name for p in type(chunker).schema}
    assert chunker.budget == 1000  # the splitter's own size (characters), reported, not enforced


def test_a_langchain_parameter_the_library_rejects_is_a_parameter_error():
    pytest.importorskip("langchain_text_splitters")
    with pytest.raises(ParameterError, match="langchain:RecursiveCharacterTextSplitter: ValueError"):
        strategies.get("langchain:RecursiveCharacterTextSplitter", chunk_size=100, chunk_overlap=200)


def test_an_unknown_langchain_name_lists_the_splitters_there_are():
    pytest.importorskip("langchain_text_splitters")
    with pytest.raises(ParameterError, match="has no class 'NoSuchSplitter'.*RecursiveCharacterTextSplitter"):
        strategies.strategy_class("langchain:NoSuchSplitter")


def test_chonkie_offsets_are_kept_when_they_slice_to_the_text(bundled):
    chonkie = pytest.importorskip("chonkie")
    chunker = chonkie.TokenChunker(tokenizer="character", chunk_size=300, chunk_overlap=60)
    text = bundled["support/FAQ.md"].text
    expected = [(c.start_index, c.end_index) for c in chunker.chunk(text) if c.text.strip()]
    assert [(c.start, c.end) for c in strategies.wrap(chunker).chunk(text)] == expected


def test_a_llama_index_node_parser_is_wrapped_through_its_nodes(bundled):
    pytest.importorskip("llama_index.core")
    chunker = strategies.get("llama_index:SentenceSplitter", chunk_size=128, chunk_overlap=16)
    text = bundled["product/troubleshooting.md"].text
    chunks = chunker.chunk(text)
    assert len(chunks) > 1 and all(text[c.start:c.end] == c.text for c in chunks)


def test_a_wrapped_name_survives_pickling_for_parallel_sweeps():
    pytest.importorskip("langchain_text_splitters")
    chunker = strategies.get("langchain:RecursiveCharacterTextSplitter", chunk_size=300)
    copy = pickle.loads(pickle.dumps(chunker))
    assert copy == chunker and copy.chunk(TEXT) == chunker.chunk(TEXT)


def test_langchain_and_chonkie_splitters_run_in_a_sweep_beside_the_built_ins(bundled):
    pytest.importorskip("langchain_text_splitters")
    pytest.importorskip("chonkie")
    from chunkopt import Sweep, load_queries

    corpus = load_corpus("corpora/docs", exclude=("corpora/queries.jsonl",))
    queries = load_queries("corpora/queries.jsonl", corpus)[:20]
    grid = [{"strategy": "langchain:RecursiveCharacterTextSplitter", "chunk_size": 1000, "chunk_overlap": 200},
            {"strategy": "chonkie:TokenChunker", "chunk_size": 800},
            {"strategy": "recursive", "chunk_size": 256}]
    sweep = Sweep(grid, retriever="bm25", checkpoint_dir=None).fit(corpus, queries)
    assert {r["strategy"] for r in sweep.results_} == {"langchain:RecursiveCharacterTextSplitter", "chonkie:TokenChunker", "recursive"}
    assert all(0 <= r["recall"] <= 1 for r in sweep.results_)


def test_a_langchain_baseline_is_on_the_sweeps_table(tmp_path):
    pytest.importorskip("langchain_text_splitters")
    from click.testing import CliRunner

    from chunkopt.cli import main

    result = CliRunner().invoke(main, [
        "sweep", "corpora/docs", "--queries", "corpora/queries.jsonl", "--strategy", "recursive", "--chunk-size", "256",
        "--overlap", "0", "--retriever", "bm25", "--no-checkpoint", "--results", str(tmp_path / "results.jsonl"),
        "--baseline", "langchain:RecursiveCharacterTextSplitter chunk_size=1000 chunk_overlap=200"])
    assert result.exit_code == 0, result.output
    assert "langchain:RecursiveCharacterTextSplitter chunk_size=1000" in result.output
    rows = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(rows) == 2 and any("langchain:RecursiveCharacterTextSplitter" in row for row in rows)


def test_an_unknown_langchain_baseline_is_a_usage_error():
    pytest.importorskip("langchain_text_splitters")
    from click.testing import CliRunner

    from chunkopt.cli import main

    result = CliRunner().invoke(main, ["sweep", "corpora/docs", "--queries", "corpora/queries.jsonl", "--no-checkpoint",
                                       "--baseline", "langchain:NoSuchSplitter chunk_size=1000"])
    assert result.exit_code == 2 and "has no class 'NoSuchSplitter'" in result.output and "Traceback" not in result.output
