"""Reading SQuAD-format files: one document per article, answer spans shifted to document offsets."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from chunkopt.cli import main
from chunkopt.corpus import load_corpus
from chunkopt.queries import load_queries
from chunkopt.squad import SquadFormatError, import_squad, read_squad

SQUAD_DEV = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "squad-dev" / "squad-v2.0-3articles.json"
needs_squad_dev = pytest.mark.skipif(not SQUAD_DEV.is_file(), reason=f"{SQUAD_DEV} is absent")

FIRST = "The lighthouse was built in 1872."
SECOND = "Its keeper, Ada Morrow, lived there for forty years."
DATA = {
    "version": "v2.0",
    "data": [
        {"title": "Lighthouse (Cape)", "paragraphs": [
            {"context": FIRST, "qas": [
                {"id": "a1", "question": "When was the lighthouse built?", "is_impossible": False,
                 "answers": [{"text": "1872", "answer_start": 28}]},
                {"id": "a2", "question": "Who painted it?", "is_impossible": True, "answers": []},
            ]},
            {"context": SECOND, "qas": [
                {"id": "a3", "question": " Who kept the light? ", "answers": [{"text": "Ada Morrow", "answer_start": 12}]},
            ]},
        ]},
        {"title": "Harbour", "paragraphs": [{"context": "Boats moor here.", "qas": []}]},
    ],
}


def write(tmp_path, data=DATA):
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_an_article_is_its_paragraphs_joined_by_a_blank_line(tmp_path):
    corpus, _ = read_squad(write(tmp_path))
    assert corpus["Lighthouse_(Cape).txt"].text == FIRST + "\n\n" + SECOND
    assert corpus["Harbour.txt"].text == "Boats moor here."


def test_answers_are_shifted_by_their_paragraph_offset(tmp_path):
    corpus, queries = read_squad(write(tmp_path))
    text = corpus["Lighthouse_(Cape).txt"].text
    spans = {q.id: text[q.references[0].start : q.references[0].end] for q in queries}
    assert spans == {"squad-a1": "1872", "squad-a3": "Ada Morrow"}
    assert queries[1].references[0].start == len(FIRST) + 2 + 12


def test_unanswerable_questions_are_skipped_and_questions_trimmed(tmp_path):
    _, queries = read_squad(write(tmp_path))
    assert [q.query for q in queries] == ["When was the lighthouse built?", "Who kept the light?"]


def test_questions_of_one_paragraph_share_a_group_and_other_paragraphs_differ(tmp_path):
    data = json.loads(json.dumps(DATA))
    data["data"][0]["paragraphs"][0]["qas"].append(
        {"id": "a4", "question": "What was built?", "answers": [{"text": "lighthouse", "answer_start": 4}]})
    _, queries = read_squad(write(tmp_path, data))
    assert {q.id: q.group for q in queries} == {
        "squad-a1": "Lighthouse_(Cape).txt#1", "squad-a4": "Lighthouse_(Cape).txt#1", "squad-a3": "Lighthouse_(Cape).txt#2"}


def test_an_answer_not_at_its_offset_is_an_error_naming_the_question(tmp_path):
    data = json.loads(json.dumps(DATA))
    data["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = 3
    with pytest.raises(SquadFormatError, match=r"article 1, paragraph 1, question 1: answer '1872' is not at character 3"):
        read_squad(write(tmp_path, data))


def test_a_file_without_data_is_an_error(tmp_path):
    with pytest.raises(SquadFormatError, match="expected SQuAD's layout"):
        read_squad(write(tmp_path, {"articles": []}))


def test_import_writes_a_folder_that_loads_back_to_the_same_queries(tmp_path):
    counts = import_squad(write(tmp_path), tmp_path / "out")
    assert counts == {"documents": 2, "questions": 2, "paragraphs": 2, "skipped": 1}
    corpus = load_corpus(tmp_path / "out" / "corpus")
    queries = load_queries(tmp_path / "out" / "queries.jsonl", corpus)
    assert queries == read_squad(write(tmp_path))[1]


def test_import_never_overwrites(tmp_path):
    import_squad(write(tmp_path), tmp_path / "out")
    with pytest.raises(SquadFormatError, match="already exists"):
        import_squad(write(tmp_path), tmp_path / "out")


def test_cli_import_squad_reports_counts(tmp_path):
    result = CliRunner().invoke(main, ["import-squad", str(write(tmp_path)), str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "imported 2 documents, 2 answerable questions from 2 paragraphs" in result.output and "1 unanswerable skipped" in result.output


def test_cli_import_squad_of_a_broken_file_is_a_usage_error(tmp_path):
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    result = CliRunner().invoke(main, ["import-squad", str(tmp_path / "bad.json"), str(tmp_path / "out")])
    assert result.exit_code == 2 and "not valid JSON" in result.output and "Traceback" not in result.output


@needs_squad_dev
def test_squad_dev_has_412_answerable_questions_in_three_articles():
    corpus, queries = read_squad(SQUAD_DEV)
    assert len(corpus) == 3 and len(queries) == 412
    for q in queries:
        ref = q.references[0]
        assert 0 <= ref.start < ref.end <= len(corpus[ref.doc].text)
