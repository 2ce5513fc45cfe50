"""The keywords generator (bag of salient words): reproducible, spread over the corpus, never a copy of its span."""

import re
import textwrap

import pytest

from chunkopt.corpus import Corpus, CorpusError, Document
from chunkopt.querygen.keywords import generate_queries
from strategies.base import ParameterError

TOPICS = [
    ("volcanoes", "magma", "eruption", "basalt", "caldera", "lava"),
    ("glaciers", "moraine", "crevasse", "meltwater", "firn", "icefall"),
    ("orchards", "pruning", "grafting", "rootstock", "blossom", "harvest"),
    ("railways", "locomotive", "gauge", "signalling", "timetable", "sleeper"),
    ("bakeries", "sourdough", "leaven", "crumb", "proofing", "oven"),
]


def article(topic, n_sentences):
    """A document of plain sentences about one topic, each 60-400 characters with distinct words."""
    name, *words = topic
    sentences = []
    for i in range(n_sentences):
        a, b, c = words[i % 5], words[(i + 2) % 5], words[(i + 3) % 5]
        sentences.append(
            f"Observers of {name} noted that the {a} changed after {b} number {i} "
            f"was studied alongside the {c} records."
        )
    return " ".join(sentences[:4]) + "\n\n" + " ".join(sentences[4:])


CORPUS = Corpus([Document(f"{t[0]}.txt", article(t, 12 + 4 * i)) for i, t in enumerate(TOPICS)])


def test_same_seed_gives_the_same_queries():
    assert generate_queries(CORPUS, n=20, seed=3) == generate_queries(CORPUS, n=20, seed=3)


def test_different_seeds_give_different_queries():
    assert generate_queries(CORPUS, n=20, seed=0) != generate_queries(CORPUS, n=20, seed=1)


def test_returns_n_queries_with_unique_ids():
    queries = generate_queries(CORPUS, n=25)
    assert len(queries) == 25
    assert len({q.id for q in queries}) == 25
    assert queries[0].id == "gen-0001"


def test_references_are_valid_ranges_of_corpus_documents():
    for query in generate_queries(CORPUS, n=40, seed=2):
        assert 1 <= len(query.references) <= 3
        for ref in query.references:
            text = CORPUS[ref.doc].text
            assert 0 <= ref.start < ref.end <= len(text)
            assert 60 <= ref.end - ref.start <= 400
            assert text[ref.start : ref.end] == text[ref.start : ref.end].strip()


def test_references_of_one_query_are_in_one_document_in_order_and_disjoint():
    for query in generate_queries(CORPUS, n=40, seed=4):
        refs = query.references
        assert len({r.doc for r in refs}) == 1
        assert all(a.end <= b.start for a, b in zip(refs, refs[1:]))


def test_queries_are_not_substrings_of_their_spans():
    for query in generate_queries(CORPUS, n=40, seed=5):
        for ref in query.references:
            span = CORPUS[ref.doc].text[ref.start : ref.end].lower()
            assert query.query.lower() not in span
            assert query.query.lower().rstrip("?.") not in span


def test_queries_keep_only_a_few_words_of_their_span():
    for query in generate_queries(CORPUS, n=40, seed=6):
        spans = " ".join(CORPUS[r.doc].text[r.start : r.end] for r in query.references)
        span_words = set(re.findall(r"\w+", spans.lower()))
        query_words = set(re.findall(r"\w+", query.query.lower()))
        assert len(query_words & span_words) <= 9


def test_first_references_of_different_queries_do_not_overlap():
    queries = generate_queries(CORPUS, n=40, seed=7)
    firsts = sorted((q.references[0].doc, q.references[0].start, q.references[0].end) for q in queries)
    assert all(a[0] != b[0] or a[2] <= b[1] for a, b in zip(firsts, firsts[1:]))


def test_queries_follow_document_length():
    queries = generate_queries(CORPUS, n=60, seed=0)
    per_doc = {d.id: sum(q.references[0].doc == d.id for q in queries) for d in CORPUS}
    assert per_doc["bakeries.txt"] > per_doc["volcanoes.txt"]  # 28 sentences against 12
    assert all(count >= 1 for count in per_doc.values())


def test_sentences_of_hard_wrapped_prose_run_across_line_breaks():
    paragraph = " ".join(article(TOPICS[2], 8).split())
    wrapped = "Orchard notes\n\n" + textwrap.fill(paragraph, width=72)
    corpus = Corpus([Document("wrapped.txt", wrapped)])
    refs = [r for q in generate_queries(corpus, n=8) for r in q.references]
    assert any("\n" in wrapped[r.start : r.end] for r in refs)
    for ref in refs:  # every reference is a whole sentence: it starts a paragraph or follows a full stop
        assert wrapped[: ref.start].rstrip().endswith((".", "Orchard notes"))
        assert wrapped[ref.end - 1] == "."


def test_code_and_tables_are_not_used_as_references():
    corpus = Corpus(
        [
            Document("prose.txt", article(TOPICS[0], 6)),
            Document("code.md", "x = {'key': [1, 2]}; y = f(x) + g(x) / h(x) # compute the value of y from x here\n" * 5),
            Document("table.md", "| revenue | 2019 | 2020 | growth of the segment over the previous year |\n" * 5),
        ]
    )
    assert {r.doc for q in generate_queries(corpus, n=5) for r in q.references} == {"prose.txt"}


def test_fewer_usable_sentences_than_asked_warns_and_returns_what_there_is():
    corpus = Corpus([Document("one.txt", article(TOPICS[1], 3))])
    with pytest.warns(UserWarning, match=r"generated 3 queries, not 10"):
        assert len(generate_queries(corpus, n=10)) == 3


def test_corpus_without_usable_sentences_is_an_error():
    corpus = Corpus([Document("short.txt", "Too short.\nAlso short.")])
    with pytest.raises(CorpusError, match=r"cannot generate queries: no sentence of 60-400 characters"):
        generate_queries(corpus, n=5)


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_n_must_be_a_positive_integer(n):
    with pytest.raises(ParameterError, match=r"n must be a positive integer number of queries"):
        generate_queries(CORPUS, n=n)
