"""Queries for a corpus that has none: generated offline, without an LLM, seeded and reproducible.

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
code or arithmetic, are not generated. Only English stop words and suffixes are known. On
Chroma's benchmark, configurations rank under these queries much as under its LLM-written
questions (Kendall tau 0.88-0.97 by IoU at top-5, 0.70-0.82 by recall), and recall levels come
within 0.03 of those questions' (see bench/README.md, "Generated queries vs Chroma's queries"). Much
of that agreement comes from chunk size, which any query set reproduces; close calls between
strategies of one size are within sampling noise. A real query set from your users is better.
"""

from __future__ import annotations

import bisect
import math
import random
import re
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from chunkopt.corpus import Corpus, CorpusError
from chunkopt.queries import Query, Reference
from strategies.base import ParameterError

MIN_CHARS, MAX_CHARS = 60, 400  # candidate sentence length, in characters
MIN_WORDS, MIN_CONTENT_WORDS = 8, 4
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

_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|\d{4}")  # words of 2+ letters, and four-digit numbers (years)
# A sentence ends at . ! ? (with closing quotes or brackets) before more text, or at a literal
# backslash-n, as in text that holds escaped strings (chat logs dumped as Python or JSON).
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s+\S)|\\n")
_POSSESSIVE = re.compile(r"['’]s$")
_NEW_BLOCK = re.compile(r"\s|[-*+#>|•=]|\d+[.)]\s")  # a line starting like this starts a new paragraph
SHORT_LINE_CHARS = 40  # a line shorter than this ends its paragraph (hard-wrapped prose lines are longer)
WRAP_CHARS = 120  # a document whose lines (95%) are no longer than this is hard-wrapped
_ABBREVIATIONS = frozenset("mr mrs ms dr st no vs inc co ltd al fig figs eq e.g i.e etc approx jr sr u.s".split())
_STOP = frozenset(ENGLISH_STOP_WORDS) | {"also", "however", "thus", "may", "would", "could", "said", "new"}
# Inflections and the derivations that keep a word's sense; "expenses" and "expensive" must not meet.
_SUFFIXES = ("ations", "ation", "ings", "ing", "ions", "ion", "ies", "ied", "ed", "es", "s", "ally", "ly")


@dataclass(frozen=True)
class _Sentence:
    doc: str
    start: int
    end: int
    words: tuple[str, ...]  # lowercased words, in order

    @property
    def content(self) -> list[str]:
        return [w for w in self.words if w not in _STOP and len(w) >= 3]


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
    sentences = {doc.id: list(_sentences(doc.id, doc.text)) for doc in corpus}
    candidates = [s for doc in corpus for s in sentences[doc.id] if _is_candidate(s, corpus[doc.id].text)]
    if not candidates:
        raise CorpusError(
            f"cannot generate queries: no sentence of {MIN_CHARS}-{MAX_CHARS} characters with {MIN_WORDS}+ words "
            f"in the corpus ({len(corpus)} documents)"
        )
    by_doc = defaultdict(list)
    for s in candidates:
        by_doc[s.doc].append(s)
    idf = _idf([s for doc_sentences in sentences.values() for s in doc_sentences])
    variants = _variants(idf)
    picked = _per_document(by_doc, n, rng) if per_document else _spread(candidates, corpus, n, rng)
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


# ---- candidate sentences ------------------------------------------------------------------


def _sentences(doc_id: str, text: str):
    """Sentences of a document as exact, whitespace-trimmed character ranges."""
    for block_start, block_end in _blocks(text):
        block = text[block_start:block_end]
        start = block_start
        for m in _SENTENCE_END.finditer(block):
            end = block_start + m.end()
            if m.group() != "\\n" and _abbreviation_before(text, block_start + m.start()):
                continue
            if m.group() == "\\n":
                end = block_start + m.start()
            yield from _trimmed(doc_id, text, start, end)
            start = block_start + m.end()
        yield from _trimmed(doc_id, text, start, block_end)


def _blocks(text: str):
    """Paragraphs as (start, end).

    In a hard-wrapped document (nearly all lines at most WRAP_CHARS long), lines run on unless a
    blank line, a short line (a heading, a label) or a line that starts a list item, table row or
    indented block comes between. Otherwise every line is a paragraph (and a heading stays apart).
    """
    lines = text.split("\n")
    lengths = sorted(len(line.strip()) for line in lines if line.strip())
    wrapped = bool(lengths) and lengths[int(0.95 * (len(lengths) - 1))] <= WRAP_CHARS
    start = prev_end = 0
    prev = ""
    position = 0
    for line in lines:
        line_start, position = position, position + len(line) + 1
        stripped = line.strip()
        new_block = not wrapped or _NEW_BLOCK.match(line) or len(prev) < SHORT_LINE_CHARS
        if not stripped or (prev and new_block):
            if prev:
                yield start, prev_end
            prev = ""
        if stripped:
            if not prev:
                start = line_start
            prev, prev_end = stripped, line_start + len(line)
    if prev:
        yield start, prev_end


def _abbreviation_before(text: str, dot: int) -> bool:
    word = re.search(r"[\w.]*$", text[max(0, dot - 8) : dot]).group().lower()
    return len(word) == 1 or word in _ABBREVIATIONS


def _trimmed(doc_id: str, text: str, start: int, end: int):
    while start < end and (text[start].isspace() or text[start] in "-*•>#"):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        words = (_POSSESSIVE.sub("", w.lower()) for w in _WORD.findall(text[start:end]))
        yield _Sentence(doc_id, start, end, tuple(words))


def _is_candidate(s: _Sentence, text: str) -> bool:
    if not MIN_CHARS <= s.end - s.start <= MAX_CHARS or len(s.words) < MIN_WORDS:
        return False
    if len(set(s.content)) < MIN_CONTENT_WORDS:
        return False
    span = text[s.start : s.end]
    capitalised = sum(w[:1].isupper() for w in _WORD.findall(span))
    if capitalised > 0.5 * len(s.words):  # titles, author lists, references
        return False
    visible = [c for c in span if not c.isspace()]
    letters = sum(c.isalpha() for c in visible)
    code = sum(c in "{}[]<>=;\\_`$#@/" for c in visible)
    return letters >= 0.75 * len(visible) and code <= 0.02 * len(visible) and "|" not in span  # "|": a table row


def _idf(sentences: list[_Sentence]) -> dict[str, float]:
    df = Counter(w for s in sentences for w in set(s.words))
    total = len(sentences)
    return {w: math.log((1 + total) / (1 + count)) + 1 for w, count in df.items()}


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _variants(idf: dict[str, float]) -> dict[str, list[str]]:
    by_stem: dict[str, list[str]] = defaultdict(list)
    for word in sorted(idf):
        if word not in _STOP and not word.isdigit():
            by_stem[_stem(word)].append(word)
    return {w: [v for v in group if v != w] for group in by_stem.values() if len(group) > 1 for w in group}


# ---- where the queries go -----------------------------------------------------------------


def _spread(candidates: list[_Sentence], corpus: Corpus, n: int, rng: random.Random) -> list[_Sentence]:
    """One candidate drawn in each of n equal slices of the corpus's characters, never overlapping."""
    offsets, position = {}, 0
    for doc in corpus:
        offsets[doc.id] = position
        position += len(doc.text)
    keys = [offsets[s.doc] + s.start for s in candidates]  # candidates are in corpus order
    n = min(n, len(candidates))
    picked: list[int] = []
    taken = set()
    for i in range(n):
        lo = bisect.bisect_left(keys, position * i / n)
        hi = bisect.bisect_left(keys, position * (i + 1) / n)
        free = [j for j in range(lo, hi) if j not in taken]
        if not free:  # this slice has no candidate (a table, say): take the nearest free one
            free = sorted((j for j in range(len(candidates)) if j not in taken), key=lambda j: abs(j - lo))[:1]
        j = rng.choice(free)
        taken.add(j)
        picked.append(j)
    return [candidates[j] for j in sorted(picked)]


def _per_document(by_doc: dict[str, list[_Sentence]], n: int, rng: random.Random) -> list[_Sentence]:
    """n candidates shared round-robin between the documents (in a seeded order), in corpus order."""
    docs = sorted(by_doc)
    rng.shuffle(docs)  # which documents get one more when n does not divide evenly
    quota = dict.fromkeys(docs, 0)
    remaining = min(n, sum(len(c) for c in by_doc.values()))
    while remaining:
        for doc in docs:
            if remaining and quota[doc] < len(by_doc[doc]):
                quota[doc] += 1
                remaining -= 1
    picked = [s for doc in docs for s in rng.sample(by_doc[doc], quota[doc])]
    return sorted(picked, key=lambda s: (s.doc, s.start))


def spread_summary(queries: list[Query], corpus: Corpus) -> str:
    """Where the queries come from: "44 of 50 from a.txt, b.txt; 9 of 14 documents used"."""
    counts = Counter(q.references[0].doc for q in queries)
    top = counts.most_common(2)
    return (f"{sum(c for _, c in top)} of {len(queries)} from {', '.join(doc for doc, _ in top)}; "
            f"{len(counts)} of {len(corpus)} documents used")


def _group(first: _Sentence, doc_candidates: list[_Sentence], rng: random.Random) -> list[_Sentence]:
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
    group: list[_Sentence],
    doc_sentences: list[_Sentence],
    idf: dict[str, float],
    variants: dict[str, list[str]],
    rng: random.Random,
) -> str:
    counts = Counter(w for s in group for w in s.content)
    scores = {w: c * idf[w] for w, c in counts.items()}
    k = min(len(scores), rng.randint(3, 6))
    terms = _weighted_sample(scores, k, rng)
    terms = [rng.choice(variants[t]) if t in variants and rng.random() < VARIANT_PROBABILITY else t for t in terms]
    if rng.random() < CONTEXT_PROBABILITY:
        start, end = group[0].start - CONTEXT_CHARS, group[-1].end + CONTEXT_CHARS
        nearby = [s for s in doc_sentences if start <= s.start and s.end <= end and s not in group]
        around = Counter(w for s in nearby for w in s.content if w not in counts)
        if around:
            context = {w: c * idf[w] for w, c in around.items() if c >= 2} or {w: c * idf[w] for w, c in around.items()}
            terms += _weighted_sample(context, 1, rng)
    rng.shuffle(terms)
    joined = terms[0] if len(terms) == 1 else ", ".join(terms[:-1]) + " and " + terms[-1]
    template = rng.choice(TEMPLATES)
    text = template.format(terms=joined)
    return text[0].upper() + text[1:]


def _weighted_sample(scores: dict[str, float], k: int, rng: random.Random) -> list[str]:
    """k distinct words drawn without replacement, with probability proportional to score ** SALIENCE_POWER."""
    pool = dict(sorted(scores.items()))
    chosen = []
    for _ in range(min(k, len(pool))):
        words = list(pool)
        weights = [pool[w] ** SALIENCE_POWER for w in words]
        word = rng.choices(words, weights)[0]
        chosen.append(word)
        del pool[word]
    return chosen
