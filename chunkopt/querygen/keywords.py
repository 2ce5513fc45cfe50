"""The keywords generator (method="keywords"): bags of a passage's salient words, offline and seeded.

Method.
1. Candidate sentences: every paragraph (a line; in a hard-wrapped document, the lines between
   blank lines, headings and list items) is cut into sentences at `.`, `!`, `?` (skipping
   common abbreviations); a sentence is a candidate when it is 60-400 characters long, has at
   least 8 words, at least 4 of them content words (not stop words), and is mostly letters
   with few capitalised words (tables, code, titles, reference lists are not).
2. Where: the corpus's characters are cut into n equal strata (documents in id order) and one
   candidate is drawn in each, so queries follow document length and are spread out. Like
   an LLM-written benchmark, some queries (about 40%) take one or two more candidate
   sentences from the next few hundred characters as further references.
3. The query: the content words of the reference sentences are scored by TF-IDF (document
   frequency counted over all sentences of the corpus); 3-6 of them are drawn with weights
   favouring the distinctive ones, so most of the span's words are dropped. About half are
   swapped for a morphological variant that occurs elsewhere in the corpus (same crude stem:
   "regulations" -> "regulated", "announced" -> "announcing"), one salient word of the
   surrounding passage is added 4 times in 5 (as a reader names the topic: "Biden"), the order is
   shuffled, and a question template wraps them: "What does the text say about A, B and C?".
   The query is therefore never a copy of its span, and a lexical retriever must still rank
   the passage among others that share some of the words.

Limits. The queries are bags of salient words, not questions a user would ask: they test
whether a chunking keeps the words of a passage together with its context, not whether a
retriever understands paraphrase or reasoning. Answers are single sentences or short groups
of nearby sentences; questions whose answer is spread over a document, or that need tables,
code or arithmetic, are not generated. Only English stop words and suffixes are known. Over the
default grid (bench/README.md, "Generated queries vs real questions"), configurations rank under
these queries as under Chroma's LLM-written questions at Kendall tau 0.64-0.85 by recall, but as
under crowd-written SQuAD questions only at 0.26-0.82 (0.26-0.50 under a 1,024-token budget), which
is why the cloze generator is the default. A real query set from your users is better.
"""

from __future__ import annotations

import random
import warnings
from collections import Counter, defaultdict

from chunkopt.corpus import Corpus, CorpusError
from chunkopt.queries import Query, Reference
from chunkopt.querygen import text as tx
from chunkopt.querygen.text import MAX_CHARS, MIN_CHARS, MIN_WORDS, Sentence
from strategies.base import ParameterError

NAME, VERSION = "keywords", 1

EXTRA_REFERENCE_PROBABILITY = 0.4  # chance a query gets a second (then third) nearby sentence
SALIENCE_POWER = 2.0  # words are drawn with probability proportional to TF-IDF ** SALIENCE_POWER
NEARBY_CHARS = 600  # how far after a reference its companions may start
VARIANT_PROBABILITY = 0.5  # chance a kept word is replaced by a same-stem variant
CONTEXT_PROBABILITY = 0.8  # chance one word of the surrounding passage is added
CONTEXT_CHARS = 1500  # how far either side of the span the context word is looked for

TEMPLATES = (
    "What does the text say about {terms}?",
    "What is said about {terms}?",
    "How are {terms} related?",
    "Which details are given on {terms}?",
    "Tell me about {terms}.",
    "{terms}: what is known?",
    "What is mentioned regarding {terms}?",
)


def generate_queries(corpus: Corpus, n: int = 50, seed: int = 0, *, per_document: bool = False) -> list[Query]:
    """`n` queries with their reference spans, drawn across `corpus`; the same seed gives the same queries.

    By default queries follow document length (a folder with two large archives gets most of
    its queries from them); `per_document=True` shares them evenly between the documents
    instead (each gets n / documents, or all its usable sentences if it has fewer).
    Fewer than `n` come back (with a warning) when the corpus has fewer usable sentences;
    none at all is a CorpusError.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(f"n must be a positive integer number of queries, got {n!r}")
    rng = random.Random(seed)
    sentences = {doc.id: list(tx.sentences(doc.id, doc.text)) for doc in corpus}
    candidates = [s for doc in corpus for s in sentences[doc.id] if tx.is_candidate(s, corpus[doc.id].text)]
    if not candidates:
        raise CorpusError(
            f"cannot generate queries: no sentence of {MIN_CHARS}-{MAX_CHARS} characters with {MIN_WORDS}+ words "
            f"in the corpus ({len(corpus)} documents)"
        )
    by_doc = defaultdict(list)
    for s in candidates:
        by_doc[s.doc].append(s)
    idf = tx.idf([s for doc_sentences in sentences.values() for s in doc_sentences])
    variants = tx.variants(idf)
    picked = tx.per_document(candidates, n, rng) if per_document else tx.spread(candidates, corpus, n, rng)
    if len(picked) < n:
        reason = f"the corpus has only {len(picked)} usable sentences"
        warnings.warn(f"generated {len(picked)} queries, not {n}: {reason}", stacklevel=2)
    queries = []
    for number, first in enumerate(picked, start=1):
        group = _group(first, by_doc[first.doc], rng)
        text = _make_query(group, sentences[first.doc], idf, variants, rng)
        references = tuple(Reference(s.doc, s.start, s.end) for s in group)
        queries.append(Query(f"gen-{number:04d}", text, references))
    return queries


def _group(first: Sentence, doc_candidates: list[Sentence], rng: random.Random) -> list[Sentence]:
    """The first reference plus, sometimes, one or two nearby candidate sentences that follow it."""
    group = [first]
    following = [s for s in doc_candidates if first.end < s.start <= first.end + NEARBY_CHARS]
    while following and len(group) < 3 and rng.random() < EXTRA_REFERENCE_PROBABILITY:
        nxt = following[rng.randrange(min(2, len(following)))]
        group.append(nxt)
        following = [s for s in following if s.start > nxt.end]
    return group


# ---- the words of a query -----------------------------------------------------------------


def _make_query(
    group: list[Sentence],
    doc_sentences: list[Sentence],
    idf: dict[str, float],
    variants: dict[str, list[str]],
    rng: random.Random,
) -> str:
    counts = Counter(w for s in group for w in s.content)
    scores = {w: c * idf[w] for w, c in counts.items()}
    k = min(len(scores), rng.randint(3, 6))
    terms = tx.weighted_sample(scores, k, rng, SALIENCE_POWER)
    terms = [rng.choice(variants[t]) if t in variants and rng.random() < VARIANT_PROBABILITY else t for t in terms]
    if rng.random() < CONTEXT_PROBABILITY:
        start, end = group[0].start - CONTEXT_CHARS, group[-1].end + CONTEXT_CHARS
        nearby = [s for s in doc_sentences if start <= s.start and s.end <= end and s not in group]
        around = Counter(w for s in nearby for w in s.content if w not in counts)
        if around:
            context = {w: c * idf[w] for w, c in around.items() if c >= 2} or {w: c * idf[w] for w, c in around.items()}
            terms += tx.weighted_sample(context, 1, rng, SALIENCE_POWER)
    rng.shuffle(terms)
    joined = terms[0] if len(terms) == 1 else ", ".join(terms[:-1]) + " and " + terms[-1]
    template = rng.choice(TEMPLATES)
    text = template.format(terms=joined)
    return text[0].upper() + text[1:]


