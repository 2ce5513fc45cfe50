"""The cloze generator's contract: seeded, exact spans, the documented mix, the answer never in its question."""

import random

import pytest
import spacy.util
from hypothesis import given, settings
from hypothesis import strategies as st

from chunkopt.corpus import Corpus, Document
from chunkopt.querygen import GeneratedQueries, cloze, generate_queries
from chunkopt.querygen import text as tx
from strategies.base import ParameterError

HAS_MODEL = spacy.util.is_package(cloze.DEFAULT_SPACY_MODEL)
needs_model = pytest.mark.skipif(not HAS_MODEL, reason=f"{cloze.DEFAULT_SPACY_MODEL} is not installed")

FACTS = [
    "The harbour at Lindqvist was dredged in 1911 so that larger steamers could dock at the northern quay.",
    "Fishermen from the village complained that the dredging drove the herring shoals out into the sound.",
    "The observatory on Mount Kessel houses a refracting telescope with a lens of sixty centimetres.",
    "Its astronomers catalogued more than 4,000 variable stars between the two world wars of the century.",
    "Margaret Oduya directed the observatory for twenty years and founded its school for young observers.",
    "Bakers in the old town proof their sourdough overnight in cellars that stay cool through the summer.",
    "The guild that regulated their trade kept its ledgers in the town hall until the great fire of 1788.",
    "A ferry crosses the sound to Vessel Island twice a day, carrying about 300 passengers on each crossing.",
]
CORPUS = Corpus([
    Document("harbour.txt", " ".join(FACTS[:2]) + "\n\n" + " ".join(FACTS[2:5])),
    Document("town.txt", " ".join(FACTS[5:7]) + "\n\n" + FACTS[7]),
])


def rules(n=60, seed=0, corpus=CORPUS):
    return generate_queries(corpus, n=n, seed=seed, spacy_model="")


def sentence_spans(corpus):
    return {(s.doc, s.start, s.end) for doc in corpus for s in tx.sentences(doc.id, doc.text)}


def test_same_seed_gives_the_same_queries():
    assert rules(seed=3) == rules(seed=3)


def test_different_seeds_give_different_queries():
    assert rules(seed=0) != rules(seed=1)


def test_asks_for_n_queries_even_when_sentences_must_serve_again():
    queries = rules(n=30)
    assert len(queries) == 30 and len({q.id for q in queries}) == 30


def test_generator_info_names_the_method_its_version_and_seed():
    queries = rules(n=10, seed=7)
    assert isinstance(queries, GeneratedQueries)
    info = queries.generator_info
    assert (info["name"], info["version"], info["seed"], info["n"]) == ("cloze", cloze.VERSION, 7, 10)
    assert info["spacy_model"] is None
    assert info["reference_mix"] == cloze.REFERENCE_MIX


def test_every_reference_is_an_exact_trimmed_span_of_its_document():
    for query in rules(n=80):
        (ref,) = query.references
        text = CORPUS[ref.doc].text
        assert 0 <= ref.start < ref.end <= len(text)
        assert text[ref.start : ref.end] == text[ref.start : ref.end].strip()


def test_each_query_names_its_source_sentence_as_its_group_and_repeats_share_it():
    queries = rules(n=400, seed=1)  # more than the corpus has sentences, so sentences serve again
    starts = {(doc.id, s.start) for doc in CORPUS for s in tx.sentences(doc.id, doc.text)}
    groups = [q.group for q in queries]
    assert all(g.rsplit("@", 1)[0] == q.references[0].doc for g, q in zip(groups, queries))
    assert all((g.rsplit("@", 1)[0], int(g.rsplit("@", 1)[1])) in starts for g in groups)
    assert len(set(groups)) < len(groups)


def test_the_kinds_of_reference_are_those_counted_and_follow_the_documented_mix():
    queries = rules(n=400, seed=1)
    spans = sentence_spans(CORPUS)
    counted = {"answer": 0, "sentence": 0, "passage": 0}
    for q in queries:
        ref = q.references[0]
        inside = [s for s in spans if s[0] == ref.doc and ref.start <= s[1] and s[2] <= ref.end]
        kind = "sentence" if (ref.doc, ref.start, ref.end) in spans else "passage" if len(inside) >= 2 else "answer"
        counted[kind] += 1
    assert counted == queries.generator_info["reference_kinds"]
    # Answers: drawn with chance 0.6 -> 240 of 400, 4 standard deviations = 39.
    assert abs(counted["answer"] - 400 * cloze.REFERENCE_MIX["answer"]) <= 40
    # A passage with no neighbour in its paragraph is a sentence, so passages can only fall short.
    assert counted["passage"] <= 400 * cloze.REFERENCE_MIX["passage"] + 40
    assert counted["sentence"] + counted["passage"] == 400 - counted["answer"]


def test_a_passage_reference_stays_in_its_paragraph(monkeypatch):
    monkeypatch.setattr(cloze, "REFERENCE_MIX", {"answer": 0.0, "sentence": 0.0, "passage": 1.0})
    for q in rules(n=40):
        ref = q.references[0]
        assert "\n\n" not in CORPUS[ref.doc].text[ref.start : ref.end]


QUESTION_WORDS = {"who", "when", "where", "what", "how", "many", "much", "is", "this", "about"}


def words_of(text):
    return {w.lower() for w in tx.WORD.findall(text)}


def sentence_holding(ref, corpus=CORPUS):
    doc = corpus[ref.doc]
    return next(doc.text[s.start : s.end] for s in tx.sentences(doc.id, doc.text) if s.start <= ref.start < s.end)


def test_answer_questions_take_their_words_from_the_answers_sentence_only(monkeypatch):
    monkeypatch.setattr(cloze, "REFERENCE_MIX", {"answer": 1.0})
    monkeypatch.setattr(cloze, "VARIANT_PROBABILITY", 0.0)
    for q in rules(n=80):
        assert words_of(q.query) - QUESTION_WORDS <= words_of(sentence_holding(q.references[0])), q


def test_answer_questions_keep_fewer_of_the_sentences_words_than_passage_questions(monkeypatch):
    monkeypatch.setattr(cloze, "VARIANT_PROBABILITY", 0.0)
    kept = {}
    for kind in ("answer", "passage"):
        monkeypatch.setattr(cloze, "REFERENCE_MIX", {kind: 1.0})
        monkeypatch.setattr(cloze, "CONTEXT_WORDS", {"answer": 0, "passage": 0})
        kept[kind] = sum(len({w for w in words_of(q.query) - QUESTION_WORDS if w not in tx.STOP})
                         for q in rules(n=200, seed=4))
    # DROP_PROBABILITY 0.75 against 0.55: about 0.25 against 0.45 of the content words survive.
    assert kept["answer"] < 0.75 * kept["passage"]


def test_passage_questions_add_salient_words_of_the_surrounding_sentences_and_answer_questions_none(monkeypatch):
    monkeypatch.setattr(cloze, "VARIANT_PROBABILITY", 0.0)
    text = ("Herring boats crowded the old pier, and the herring sellers waited on the pier each morning. "
            "The harbour at Lindqvist was dredged in 1911 so that larger steamers could dock at the northern quay. "
            "Later the herring trade moved to the new pier beside the lighthouse on the headland.")
    doc_sentences = list(tx.sentences("d.txt", text))
    asked = doc_sentences[1]
    answer = cloze.Answer(text.index("1911"), text.index("1911") + 4, "When")
    idf = tx.idf(doc_sentences)
    added = {}
    for style in ("answer", "passage"):
        question = cloze._question(text, asked, answer, doc_sentences, idf, {}, random.Random(0), style)
        added[style] = words_of(question) - QUESTION_WORDS - words_of(text[asked.start : asked.end])
    assert added == {"answer": set(), "passage": {"herring", "pier"}}  # CONTEXT_WORDS: 0 and 2


def test_no_question_contains_its_answer(monkeypatch):
    monkeypatch.setattr(cloze, "REFERENCE_MIX", {"answer": 1.0, "sentence": 0.0, "passage": 0.0})
    for q in rules(n=80):
        ref = q.references[0]
        assert CORPUS[ref.doc].text[ref.start : ref.end].lower() not in q.query.lower()


def test_a_year_is_asked_with_when_and_a_count_with_how_many():
    doc = Document("d.txt", "The northern bridge over the wide river was finally opened to traffic in 1932 by the mayor.")
    sentence = next(tx.sentences(doc.id, doc.text))
    years = [a for a in cloze._rule_phrases(doc.text, sentence)[0] if doc.text[a.start : a.end] == "1932"]
    assert [a.wh for a in years] == ["When"]
    doc = Document("e.txt", "The ferry carries about 300 passengers across the sound on every single crossing.")
    sentence = next(tx.sentences(doc.id, doc.text))
    counts = [a for a in cloze._rule_phrases(doc.text, sentence)[0] if doc.text[a.start : a.end] == "300"]
    assert [a.wh for a in counts] == ["How many"]


def test_rules_find_capitalised_names_but_not_the_first_word_alone():
    doc = Document("d.txt", "Observers said that Margaret Oduya directed the observatory on Mount Kessel for years.")
    sentence = next(tx.sentences(doc.id, doc.text))
    names = {doc.text[a.start : a.end] for a in cloze._rule_phrases(doc.text, sentence)[0]}
    assert names == {"Margaret Oduya", "Mount Kessel"}


def test_without_the_model_installed_the_rules_are_used(monkeypatch):
    monkeypatch.setattr(spacy.util, "is_package", lambda name: False)
    queries = generate_queries(CORPUS, n=10, seed=0)
    assert queries.generator_info["spacy_model"] is None
    assert queries == rules(n=10, seed=0)


def test_a_named_model_that_is_not_installed_is_a_parameter_error():
    with pytest.raises(ParameterError, match="spacy_model 'no_such_pipeline' cannot be loaded"):
        generate_queries(CORPUS, n=5, spacy_model="no_such_pipeline")


def test_an_unknown_method_is_a_parameter_error():
    with pytest.raises(ParameterError, match="method must be one of cloze, keywords, got 'llm'"):
        generate_queries(CORPUS, n=5, method="llm")


@needs_model
def test_with_the_model_a_person_is_asked_with_who():
    doc = Document("d.txt", FACTS[4])
    sentence = next(tx.sentences(doc.id, doc.text))
    nlp = cloze._load(cloze.DEFAULT_SPACY_MODEL)
    entities, _ = cloze._spacy_phrases(sentence, nlp(doc.text[sentence.start : sentence.end]))
    assert ("Margaret Oduya", "Who") in {(doc.text[a.start : a.end], a.wh) for a in entities}


@needs_model
def test_with_the_model_installed_it_is_used_by_default_and_recorded():
    queries = generate_queries(CORPUS, n=10, seed=0)
    assert queries.generator_info["spacy_model"] == cloze.DEFAULT_SPACY_MODEL
    assert queries == generate_queries(CORPUS, n=10, seed=0)


words = st.sampled_from("river stone 1911 Kessel harbour bakers ledger ferry 300 guild crossing Oduya town".split())
sentence = st.lists(words, min_size=11, max_size=13, unique=True).map(lambda ws: "The " + " ".join(ws) + ".")


@settings(max_examples=40, deadline=None)
@given(st.lists(sentence, min_size=1, max_size=6), st.integers(0, 3), st.integers(0, 1000))
def test_any_prose_gives_exact_references_and_questions_without_their_answer(sentences, breaks, seed):
    parts = [" ".join(sentences[i::breaks + 1]) for i in range(breaks + 1)]
    corpus = Corpus([Document("doc.txt", "\n\n".join(p for p in parts if p))])
    rng_mix = random.Random(seed).choice([{"answer": 1.0, "sentence": 0.0, "passage": 0.0}, cloze.REFERENCE_MIX])
    old = cloze.REFERENCE_MIX
    cloze.REFERENCE_MIX = rng_mix
    try:
        queries = generate_queries(corpus, n=5, seed=seed, spacy_model="")
    finally:
        cloze.REFERENCE_MIX = old
    text = corpus["doc.txt"].text
    for q in queries:
        ref = q.references[0]
        assert 0 <= ref.start < ref.end <= len(text) and text[ref.start : ref.end].strip() == text[ref.start : ref.end]
        if rng_mix["answer"] == 1.0:
            assert text[ref.start : ref.end].lower() not in q.query.lower()


def test_rules_keep_a_name_that_starts_the_sentence_and_drop_a_leading_article():
    doc = Document("d.txt", "Margaret Oduya directed it for years, and then The Sky Group bought the observatory outright.")
    sentence = next(tx.sentences(doc.id, doc.text))
    names = {doc.text[a.start : a.end] for a in cloze._rule_phrases(doc.text, sentence)[0]}
    assert names == {"Margaret Oduya", "Sky Group"}


def test_per_document_shares_the_queries_evenly_between_documents():
    queries = generate_queries(CORPUS, n=6, seed=0, spacy_model="", per_document=True)
    assert sorted(q.references[0].doc for q in queries) == ["harbour.txt"] * 3 + ["town.txt"] * 3
    assert queries.generator_info["per_document"] is True


@needs_model
def test_with_the_model_references_are_exact_spans_and_questions_never_hold_their_answer(monkeypatch):
    monkeypatch.setattr(cloze, "REFERENCE_MIX", {"answer": 1.0, "sentence": 0.0, "passage": 0.0})
    for q in generate_queries(CORPUS, n=40, seed=3):
        ref = q.references[0]
        text = CORPUS[ref.doc].text
        assert 0 <= ref.start < ref.end <= len(text) and text[ref.start : ref.end].strip() == text[ref.start : ref.end]
        assert text[ref.start : ref.end].lower() not in q.query.lower()
