"""Queries written by an LLM behind an OpenAI-compatible chat-completions endpoint, checked against the text.

    queries = generate_llm_queries(corpus, "http://localhost:8000/v1", "llama3", n=50, seed=0)
    queries.generator_info["dropped"]      # {"not_found": 2, "malformed": 1}

Passages (a prose sentence and its neighbours in the paragraph, up to PASSAGE_CHARS characters)
are drawn across the corpus as for the offline generators (seeded), and sent BATCH_SIZE to a
request. The model is asked for one question per passage and a verbatim quote of the passage
that answers it, as JSON. A question is kept only if its quote is found in its passage, exactly
or ignoring differences in whitespace, and then its reference is that quote's exact span of the
document; every other passage is dropped and counted (`not_found`: the quote is not in the
passage; `malformed`: the reply has no well-formed item for it), so asked = kept + dropped.

The API key is read from an environment variable (OPENAI_API_KEY unless `api_key_env` names
another) and sent only in the Authorization header: it is never logged, stored or put in an
error message. A 429 or 5xx reply, a timeout or a refused connection is retried up to `retries`
times, waiting `backoff_s` x 2^attempt seconds (or the reply's Retry-After); any other error
stops with an LLMError that says what the endpoint answered.

What the questions are worth cannot be measured offline: it depends on the model.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections import Counter
from typing import Callable

from chunkopt.corpus import Corpus, CorpusError
from chunkopt.openai_http import HTTPFailure, api_url, post_json
from chunkopt.openai_http import public as _public
from chunkopt.queries import GeneratedQueries, Query, Reference
from chunkopt.querygen import text as tx
from strategies.base import ParameterError

NAME, VERSION = "llm", 1
BATCH_SIZE = 5  # passages per request
LLM_COUNT = 50  # questions asked for unless told: 10 requests; each costs the team a model call
PASSAGE_CHARS = 1200  # most characters in a passage
SYSTEM_PROMPT = (
    "You write search questions for evaluating a retrieval system. For each numbered passage, write one question "
    "a user could ask that the passage answers, in your own words, and quote, character for character, the "
    "shortest part of the passage that answers it. Reply with JSON only: "
    '{"questions": [{"passage": <number>, "question": "...", "reference": "<verbatim quote>"}]}'
)


class LLMError(RuntimeError):
    """The endpoint could not be used: the message says which URL and what it answered."""


def generate_llm_queries(
    corpus: Corpus,
    url: str,
    model: str,
    n: int = LLM_COUNT,
    seed: int = 0,
    *,
    api_key_env: str = "OPENAI_API_KEY",
    batch_size: int = BATCH_SIZE,
    timeout_s: float = 60.0,
    retries: int = 4,
    backoff_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> GeneratedQueries:
    """Up to `n` queries from the model at `url`; those whose quote is not in their passage are dropped and counted."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(f"n must be a positive integer number of queries, got {n!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ParameterError(f"batch_size must be a positive integer number of passages, got {batch_size!r}")
    endpoint = _endpoint(url)
    client = _Client(endpoint, model, os.environ.get(api_key_env), timeout_s, retries, backoff_s, sleep)
    passages = _passages(corpus, n, random.Random(seed))
    queries, dropped = [], Counter({"not_found": 0, "malformed": 0})
    for first in range(0, len(passages), batch_size):
        batch = passages[first : first + batch_size]
        items = _items(client.complete(_prompt(corpus, batch), seed + first), len(batch))
        dropped["malformed"] += len(batch) - len(items)  # passages with no well-formed item
        for number, question, quote in items:
            reference = _locate(quote, corpus, batch[number - 1])
            if reference is None:
                dropped["not_found"] += 1
                continue
            queries.append(Query(f"llm-{len(queries) + 1:04d}", question, (reference,)))
    info = {"name": NAME, "version": VERSION, "model": model, "url": _public(endpoint), "asked": len(passages),
            "kept": len(queries), "dropped": dict(dropped), "seed": seed, "n": n}
    return GeneratedQueries(queries, info)


# ---- passages and prompts -----------------------------------------------------------------


def _passages(corpus: Corpus, n: int, rng: random.Random) -> list[Reference]:
    """n passages: a drawn prose sentence grown by its paragraph's neighbours up to PASSAGE_CHARS."""
    candidates, by_doc = [], {}
    for doc in corpus:
        by_doc[doc.id] = list(tx.sentences(doc.id, doc.text))
        candidates += [s for s in by_doc[doc.id] if tx.is_candidate(s, doc.text)]
    if not candidates:
        raise CorpusError(f"cannot generate queries: no prose sentence in the corpus ({len(corpus)} documents)")
    passages = []
    for s in tx.spread(candidates, corpus, min(n, len(candidates)), rng):
        text, sentences = corpus[s.doc].text, by_doc[s.doc]
        i = j = sentences.index(s)
        while j + 1 < len(sentences) and sentences[j + 1].end - s.start <= PASSAGE_CHARS \
                and "\n\n" not in text[s.start : sentences[j + 1].start]:
            j += 1
        while i > 0 and sentences[j].end - sentences[i - 1].start <= PASSAGE_CHARS \
                and "\n\n" not in text[sentences[i - 1].end : s.start]:
            i -= 1
        passages.append(Reference(s.doc, sentences[i].start, sentences[j].end))
    return passages


def _prompt(corpus: Corpus, batch: list[Reference]) -> list[dict[str, str]]:
    shown = "\n\n".join(f"Passage {i}:\n<<<\n{corpus[p.doc].text[p.start:p.end]}\n>>>" for i, p in enumerate(batch, 1))
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": shown}]


def _items(content: str, n_passages: int) -> list[tuple[int, str, str]]:
    """(passage number, question, quote) of each well-formed item of a reply, at most one per passage."""
    match = re.search(r"\{.*\}", content, re.DOTALL)  # models wrap JSON in prose or code fences
    try:
        data = json.loads(match.group()) if match else None
    except json.JSONDecodeError:
        data = None
    listed = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        return []
    items, seen = [], set()
    for item in listed:
        ok = (isinstance(item, dict) and isinstance(item.get("passage"), int) and not isinstance(item["passage"], bool)
              and 1 <= item["passage"] <= n_passages and item["passage"] not in seen
              and isinstance(item.get("question"), str) and item["question"].strip()
              and isinstance(item.get("reference"), str) and item["reference"].strip())
        if ok:
            seen.add(item["passage"])
            items.append((item["passage"], " ".join(item["question"].split()), item["reference"]))
    return items


def _locate(quote: str, corpus: Corpus, passage: Reference) -> Reference | None:
    """The quote's exact span in the document, searched in its passage: exactly, else ignoring whitespace."""
    text = corpus[passage.doc].text
    window = text[passage.start : passage.end]
    at = window.find(quote)
    if at >= 0:
        return Reference(passage.doc, passage.start + at, passage.start + at + len(quote))
    words = quote.split()
    m = re.search(r"\s+".join(re.escape(w) for w in words), window) if words else None
    return Reference(passage.doc, passage.start + m.start(), passage.start + m.end()) if m else None


# ---- the endpoint -------------------------------------------------------------------------


def _endpoint(url: str) -> str:
    try:
        return api_url(url, "/chat/completions")
    except ValueError as exc:
        raise ParameterError(f"--llm {exc}") from None


class _Client:
    def __init__(self, endpoint, model, key, timeout_s, retries, backoff_s, sleep) -> None:
        self.endpoint, self.model, self.key = endpoint, model, key
        self.timeout_s, self.retries, self.backoff_s, self.sleep = timeout_s, retries, backoff_s, sleep

    def complete(self, messages: list[dict[str, str]], seed: int) -> str:
        """The reply's message content; retried on 429, 5xx, timeouts and refused connections."""
        payload = {"model": self.model, "messages": messages, "temperature": 0, "seed": seed}
        where = _public(self.endpoint)
        try:
            raw = post_json(self.endpoint, payload, key=self.key, timeout_s=self.timeout_s, retries=self.retries,
                            backoff_s=self.backoff_s, retry_unreachable=True, sleep=self.sleep)
        except HTTPFailure as failure:
            if failure.kind == "http":
                hint = " (check the API key's environment variable)" if failure.code in (401, 403) else ""
                raise LLMError(f"{where} answered HTTP {failure.code}{hint}: {failure.detail}") from None
            what = f"timed out after {self.timeout_s:g} s" if failure.kind == "timeout" \
                else f"could not be reached ({failure.detail})"
            raise LLMError(f"{where} {what}, {failure.attempts} attempt(s)") from None
        return _content(raw, where)


def _content(raw: bytes, where: str) -> str:
    try:
        return json.loads(raw)["choices"][0]["message"]["content"] or ""
    except (ValueError, KeyError, IndexError, TypeError):
        raise LLMError(f"{where} did not answer like an OpenAI chat-completions API "
                       f"(expected choices[0].message.content), got {raw[:80]!r}") from None
