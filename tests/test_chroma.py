"""Importing Chroma's benchmark: the public data, and small hand-made folders in its format."""

import csv
import json
from pathlib import Path

import pytest

from chunkopt.chroma import ChromaFormatError, import_chroma
from chunkopt.corpus import load_corpus
from chunkopt.queries import load_queries

CHROMA = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "chroma"
needs_chroma = pytest.mark.skipif(not (CHROMA / "questions_df.csv").is_file(), reason=f"{CHROMA} is absent")


def make_source(tmp_path, rows, corpora):
    src = tmp_path / "src"
    (src / "corpora").mkdir(parents=True)
    for name, text in corpora.items():
        (src / "corpora" / f"{name}.md").write_bytes(text.encode("utf-8"))
    with open(src / "questions_df.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["question", "references", "corpus_id"])
        for question, refs, corpus_id in rows:
            writer.writerow([question, json.dumps(refs), corpus_id])
    return src


@needs_chroma
def test_public_benchmark_imports_472_questions_with_790_references(tmp_path):
    counts = import_chroma(CHROMA, tmp_path)
    assert counts == {"documents": 5, "questions": 472, "references": 790}


@needs_chroma
def test_public_benchmark_references_slice_to_their_contents_after_loading(tmp_path):
    import_chroma(CHROMA, tmp_path)
    corpus = load_corpus(tmp_path / "corpus")
    queries = load_queries(tmp_path / "queries.jsonl", corpus)
    with open(CHROMA / "questions_df.csv", encoding="utf-8") as f:
        contents = [r["content"] for row in csv.DictReader(f) for r in json.loads(row["references"])]
    sliced = [corpus[r.doc].text[r.start : r.end] for q in queries for r in q.references]
    assert sliced == contents
    assert [d.id for d in corpus] == ["chatlogs.md", "finance.md", "pubmed.md", "state_of_the_union.md", "wikitexts.md"]
    assert queries[0].id == "chroma-0001" and queries[-1].id == "chroma-0472"


@needs_chroma
def test_corpus_files_are_copied_byte_for_byte(tmp_path):
    import_chroma(CHROMA, tmp_path)
    for source in (CHROMA / "corpora").glob("*.md"):
        assert (tmp_path / "corpus" / source.name).read_bytes() == source.read_bytes()


def test_string_and_integer_indices_both_read(tmp_path):
    refs = [
        {"content": "alpha", "start_index": "0", "end_index": "5"},
        {"content": "gamma", "start_index": 11, "end_index": 16},
    ]
    src = make_source(tmp_path, [("Which letters?", refs, "greek")], {"greek": "alpha beta gamma"})
    assert import_chroma(src, tmp_path / "out") == {"documents": 1, "questions": 1, "references": 2}
    lines = (tmp_path / "out" / "queries.jsonl").read_text().splitlines()
    assert json.loads(lines[0]) == {
        "id": "chroma-0001",
        "query": "Which letters?",
        "references": [{"doc": "greek.md", "start": 0, "end": 5}, {"doc": "greek.md", "start": 11, "end": 16}],
    }


def test_reference_that_does_not_slice_to_its_content_is_an_error(tmp_path):
    refs = [{"content": "beta", "start_index": 0, "end_index": 4}]
    src = make_source(tmp_path, [("q", refs, "greek")], {"greek": "alpha beta gamma"})
    with pytest.raises(ChromaFormatError, match=r"question 1 \(line 2\), reference 1: greek.md\[0:4\] does not equal"):
        import_chroma(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_non_integer_index_is_an_error(tmp_path):
    refs = [{"content": "beta", "start_index": "six", "end_index": 10}]
    src = make_source(tmp_path, [("q", refs, "greek")], {"greek": "alpha beta gamma"})
    with pytest.raises(ChromaFormatError, match=r"start_index and end_index must be integers .*got 'six' and 10"):
        import_chroma(src, tmp_path / "out")


def test_index_beyond_the_corpus_is_an_error(tmp_path):
    refs = [{"content": "x", "start_index": 10, "end_index": 99}]
    src = make_source(tmp_path, [("q", refs, "greek")], {"greek": "alpha beta gamma"})
    with pytest.raises(ChromaFormatError, match=r"range 10:99 is outside greek.md \(16 characters\)"):
        import_chroma(src, tmp_path / "out")


def test_unknown_corpus_id_is_an_error(tmp_path):
    refs = [{"content": "alpha", "start_index": 0, "end_index": 5}]
    src = make_source(tmp_path, [("q", refs, "latin")], {"greek": "alpha beta gamma"})
    with pytest.raises(ChromaFormatError, match=r"corpus_id 'latin' has no file corpora/latin.md"):
        import_chroma(src, tmp_path / "out")


def test_folder_without_the_benchmark_files_is_an_error(tmp_path):
    with pytest.raises(ChromaFormatError, match=r"is not a Chroma benchmark folder: it needs questions_df.csv"):
        import_chroma(tmp_path, tmp_path / "out")


def test_corpus_with_carriage_returns_is_refused(tmp_path):
    refs = [{"content": "alpha", "start_index": 0, "end_index": 5}]
    src = make_source(tmp_path, [("q", refs, "greek")], {"greek": "alpha\r\nbeta"})
    with pytest.raises(ChromaFormatError, match=r"greek.md: a BOM or carriage returns would shift every offset"):
        import_chroma(src, tmp_path / "out")
