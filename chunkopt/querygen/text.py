"""What every query generator shares: sentences as exact character ranges, which of them are prose,
word statistics, and how n queries are spread over a corpus.

Sentences: every paragraph (a line; in a hard-wrapped document, the lines between blank lines,
headings and list items) is cut at `.`, `!`, `?` (skipping common abbreviations). A sentence is a
candidate for a query when it is MIN_CHARS-MAX_CHARS characters long, has MIN_WORDS+ words,
MIN_CONTENT_WORDS+ of them content words (not stop words), and is mostly letters with few
capitalised words: prose is, tables, code, titles and reference lists are not.
"""

from __future__ import annotations

import bisect
import math
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from chunkopt.corpus import Corpus

MIN_CHARS, MAX_CHARS = 60, 400  # candidate sentence length, in characters
MIN_WORDS, MIN_CONTENT_WORDS = 8, 4
WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|\d{4}")  # words of 2+ letters, and four-digit numbers (years)
# A sentence ends at . ! ? (with closing quotes or brackets) before more text, or at a literal
# backslash-n, as in text that holds escaped strings (chat logs dumped as Python or JSON).
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s+\S)|\\n")
_POSSESSIVE = re.compile(r"['’]s$")
_NEW_BLOCK = re.compile(r"\s|[-*+#>|•=]|\d+[.)]\s")  # a line starting like this starts a new paragraph
SHORT_LINE_CHARS = 40  # a line shorter than this ends its paragraph (hard-wrapped prose lines are longer)
WRAP_CHARS = 120  # a document whose lines (95%) are no longer than this is hard-wrapped
_ABBREVIATIONS = frozenset("mr mrs ms dr st no vs inc co ltd al fig figs eq e.g i.e etc approx jr sr u.s".split())
STOP = frozenset(ENGLISH_STOP_WORDS) | {"also", "however", "thus", "may", "would", "could", "said", "new"}
# Inflections and the derivations that keep a word's sense; "expenses" and "expensive" must not meet.
_SUFFIXES = ("ations", "ation", "ings", "ing", "ions", "ion", "ies", "ied", "ed", "es", "s", "ally", "ly")


@dataclass(frozen=True)
class Sentence:
    doc: str
    start: int
    end: int
    words: tuple[str, ...]  # lowercased words, in order

    @property
    def content(self) -> list[str]:
        return [w for w in self.words if w not in STOP and len(w) >= 3]



def sentences(doc_id: str, text: str):
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
        words = (_POSSESSIVE.sub("", w.lower()) for w in WORD.findall(text[start:end]))
        yield Sentence(doc_id, start, end, tuple(words))


def is_candidate(s: Sentence, text: str) -> bool:
    if not MIN_CHARS <= s.end - s.start <= MAX_CHARS or len(s.words) < MIN_WORDS:
        return False
    if len(set(s.content)) < MIN_CONTENT_WORDS:
        return False
    span = text[s.start : s.end]
    capitalised = sum(w[:1].isupper() for w in WORD.findall(span))
    if capitalised > 0.5 * len(s.words):  # titles, author lists, references
        return False
    visible = [c for c in span if not c.isspace()]
    letters = sum(c.isalpha() for c in visible)
    code = sum(c in "{}[]<>=;\\_`$#@/" for c in visible)
    return letters >= 0.75 * len(visible) and code <= 0.02 * len(visible) and "|" not in span  # "|": a table row


def idf(sentences: list[Sentence]) -> dict[str, float]:
    df = Counter(w for s in sentences for w in set(s.words))
    total = len(sentences)
    return {w: math.log((1 + total) / (1 + count)) + 1 for w, count in df.items()}


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def variants(idf: dict[str, float]) -> dict[str, list[str]]:
    by_stem: dict[str, list[str]] = defaultdict(list)
    for word in sorted(idf):
        if word not in STOP and not word.isdigit():
            by_stem[_stem(word)].append(word)
    return {w: [v for v in group if v != w] for group in by_stem.values() if len(group) > 1 for w in group}



def spread(candidates: list[Sentence], corpus: Corpus, n: int, rng: random.Random) -> list[Sentence]:
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



def per_document(candidates: list[Sentence], n: int, rng: random.Random) -> list[Sentence]:
    """n candidates shared round-robin between the documents (in a seeded order), in corpus order.

    Each document gets n / documents (or all its candidates if it has fewer), instead of a share
    in proportion to its length as `spread` gives.
    """
    by_doc: dict[str, list[Sentence]] = defaultdict(list)
    for s in candidates:
        by_doc[s.doc].append(s)
    docs = sorted(by_doc)
    rng.shuffle(docs)  # which documents get one more when n does not divide evenly
    quota = dict.fromkeys(docs, 0)
    remaining = min(n, len(candidates))
    while remaining:
        for doc in docs:
            if remaining and quota[doc] < len(by_doc[doc]):
                quota[doc] += 1
                remaining -= 1
    picked = [s for doc in docs for s in rng.sample(by_doc[doc], quota[doc])]
    return sorted(picked, key=lambda s: (s.doc, s.start))


def weighted_sample(scores: dict[str, float], k: int, rng: random.Random, power: float = 1.0) -> list[str]:
    """k distinct words drawn without replacement, with probability proportional to score ** power."""
    pool = dict(sorted(scores.items()))
    chosen = []
    for _ in range(min(k, len(pool))):
        words = list(pool)
        weights = [pool[w] ** power for w in words]
        word = rng.choices(words, weights)[0]
        chosen.append(word)
        del pool[word]
    return chosen
