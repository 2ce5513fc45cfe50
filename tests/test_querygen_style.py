"""Generating in the style of a few real questions: what they cite sets the kinds and lengths, where they fall the spread."""

import pytest

from chunkopt.corpus import Corpus, Document
from chunkopt.queries import Query, Reference, load_queries, save_queries
from chunkopt.querygen import MEASURED_AGREEMENT, agreement_line, cloze, describe_generator, generate_queries
from chunkopt.querygen.style import QueryStyle, learn_style
from strategies.base import ParameterError

SENTENCES = [
    "The harbour at Lindqvist was dredged in 1911 so that larger steamers could dock at the northern quay.",
    "Fishermen from the village complained that the dredging drove the herring shoals out into the sound.",
    "The observatory on Mount Kessel houses a refracting telescope with a lens of sixty centimetres.",
    "Its astronomers catalogued more than 4,000 variable stars between the two world wars of the century.",
    "Margaret Oduya directed the observatory for twenty years and founded its school for young observers.",
    "Bakers in the old town proof their sourdough overnight in cellars that stay cool through the summer.",
]
LONG = Document("long.txt", "\n\n".join(" ".join(SENTENCES[i:] + SENTENCES[:i]) for i in range(6)))
SHORT = Document("short.txt", " ".join(SENTENCES[:3]))
CORPUS = Corpus([LONG, SHORT])


def example(doc: Document, length: int, start: int = 0) -> Query:
    return Query(f"ex-{doc.id}-{start}-{length}", "a question", (Reference(doc.id, start, start + length),))


def style(*lengths: int, per_document: bool = False) -> QueryStyle:
    return QueryStyle(tuple(lengths), per_document)


def test_the_answer_share_is_the_share_of_examples_citing_an_answer_sized_phrase():
    examples = [example(LONG, 12), example(LONG, cloze.MAX_ANSWER_CHARS), example(LONG, cloze.MAX_ANSWER_CHARS + 1),
                example(LONG, 300)]
    assert learn_style(examples, CORPUS).answer_share == 0.5


def test_an_example_with_several_references_counts_its_longest():
    two = Query("q", "a question", (Reference("long.txt", 0, 10), Reference("long.txt", 200, 400)))
    assert learn_style([two], CORPUS).reference_chars == (200,)


def test_examples_falling_on_each_document_alike_are_spread_evenly_per_document():
    alike = [example(LONG, 20, 0), example(LONG, 20, 100), example(SHORT, 20, 0), example(SHORT, 20, 100)]
    assert learn_style(alike, CORPUS).per_document is True


def test_examples_falling_in_proportion_to_length_are_spread_by_length():
    # long.txt is twelve times short.txt: twelve examples on it for every one on short.txt
    by_length = [example(LONG, 20, 50 * i) for i in range(12)] + [example(SHORT, 20, 0)]
    assert learn_style(by_length, CORPUS).per_document is False


def test_short_examples_give_answer_questions_only():
    queries = generate_queries(CORPUS, n=30, seed=0, spacy_model="", style=style(9, 14, 30))
    assert queries.generator_info["reference_kinds"]["answer"] == 30
    assert all(r.end - r.start <= cloze.MAX_ANSWER_CHARS for q in queries for r in q.references)


def test_long_examples_give_passages_near_their_length():
    target = 2 * len(SENTENCES[0])  # two sentences' worth
    queries = generate_queries(CORPUS, n=40, seed=0, spacy_model="", style=style(target))
    lengths = sorted(r.end - r.start for q in queries for r in q.references)
    assert queries.generator_info["reference_kinds"]["answer"] == 0
    assert abs(lengths[len(lengths) // 2] - target) < len(SENTENCES[0]) / 2  # the median within half a sentence


def test_passages_grow_within_their_sentence_paragraph_however_long_the_target():
    queries = generate_queries(CORPUS, n=40, seed=3, spacy_model="", style=style(5000))
    spans = [CORPUS[r.doc].text[r.start:r.end] for q in queries for r in q.references]
    assert all("\n\n" not in span for span in spans)
    assert max(len(span) for span in spans) > 3 * len(SENTENCES[0])  # grown well past one sentence


def test_examples_must_cite_the_corpus_and_have_references():
    with pytest.raises(ValueError, match="'gone.txt', which is not in the corpus"):
        learn_style([Query("q", "a question", (Reference("gone.txt", 0, 5),))], CORPUS)
    with pytest.raises(ValueError, match="has no reference"):
        learn_style([Query("q", "a question", ())], CORPUS)


def test_every_reference_in_a_style_is_an_exact_span_of_its_document():
    queries = generate_queries(CORPUS, n=60, seed=2, spacy_model="", style=style(10, 150, 260, 500))
    for q in queries:
        for r in q.references:
            text = CORPUS[r.doc].text
            assert 0 <= r.start < r.end <= len(text) and text[r.start:r.end].strip() == text[r.start:r.end]


def test_a_style_is_reproducible_and_spreads_as_its_examples_do():
    even = style(10, 200, per_document=True)
    first = generate_queries(CORPUS, n=12, seed=5, spacy_model="", style=even)
    assert first == generate_queries(CORPUS, n=12, seed=5, spacy_model="", style=even)
    assert first.generator_info["per_document"] is True
    by_length = generate_queries(CORPUS, n=12, seed=5, spacy_model="", style=style(10, 200))
    on_short = [sum(q.references[0].doc == "short.txt" for q in queries) for queries in (first, by_length)]
    assert on_short[0] > on_short[1]


def test_the_style_is_recorded_and_survives_a_query_file(tmp_path):
    queries = generate_queries(CORPUS, n=5, seed=1, spacy_model="", style=style(10, 200))
    assert queries.generator_info["style"] == {"examples": 2, "answer_share": 0.5, "per_document": False,
                                               "reference_chars": [10, 200]}
    save_queries(queries, tmp_path / "q.jsonl")
    assert load_queries(tmp_path / "q.jsonl", CORPUS).generator_info["style"] == queries.generator_info["style"]


def test_the_agreement_line_quotes_the_figures_measured_for_a_style():
    info = generate_queries(CORPUS, n=4, seed=0, spacy_model="", style=style(10, 200)).generator_info
    line = agreement_line(info)
    assert MEASURED_AGREEMENT["cloze in a style"] in line
    assert "in the style of 2 example questions (answer share 0.5, by length)" in describe_generator(info)


def test_a_style_is_for_the_cloze_generator_and_decides_the_spread_itself():
    with pytest.raises(ParameterError, match="cloze"):
        generate_queries(CORPUS, n=4, method="keywords", style=style(10))
    with pytest.raises(ParameterError, match="per_document"):
        generate_queries(CORPUS, n=4, spacy_model="", per_document=True, style=style(10))
    with pytest.raises(ParameterError, match="reference_chars"):
        cloze.generate(CORPUS, 4, 0, "", reference_chars=(0,))
