"""Retrievers as plugins: `available_retrievers()` lists them, `get_retriever(name, **params)` builds one.

    retriever = get_retriever("bm25", k1=1.2).fit(chunk_texts)
    indices, scores = retriever.search(["how are late fees capped?"], k=5)

Built-ins and third-party retrievers come through the same registry: the entry-point group
`chunkopt.retrievers` (name = "package.module:Class", a subclass of Retriever), read once per
process. `register_retriever()` adds one at run time (notebooks, tests), and
`parse_retriever("neural precision=fp32")` builds one from its command-line form.

Modules: base (Retriever, exact blocked top-k search), sparse (tfidf, bm25, lsa), dense (the
embedding retrievers' base and their caches), cache (the persistent embedding cache), hnsw
(approximate search in an HNSW graph), neural (sentence-transformers), transformer (the model as
neural's fast paths read and run it), bf16_encoder and onnx_encoder (those paths: PyTorch with
bfloat16 products, ONNX Runtime with int8 weights), endpoint (an OpenAI-compatible /v1/embeddings server), hybrid (BM25 and a dense
retriever fused by reciprocal rank).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from chunkopt.retrievers.base import SCORE_ROW_BYTES, SEARCH_BLOCK_BYTES, Retriever, normalise, top_k
from chunkopt.specs import parse_spec
from strategies.base import ParameterError

ENTRY_POINT_GROUP = "chunkopt.retrievers"

# The built-ins as entry-point targets, so a source checkout that was never pip-installed
# (and so has no entry-point metadata) still finds them through the same path.
_BUILTIN_TARGETS = {
    "tfidf": "chunkopt.retrievers.sparse:TfidfRetriever",
    "bm25": "chunkopt.retrievers.sparse:BM25Retriever",
    "lsa": "chunkopt.retrievers.sparse:LsaRetriever",
    "neural": "chunkopt.retrievers.neural:NeuralRetriever",
    "endpoint": "chunkopt.retrievers.endpoint:EndpointRetriever",
    "hybrid": "chunkopt.retrievers.hybrid:HybridRetriever",
}

_registered: dict[str, type[Retriever]] = {}


@lru_cache(maxsize=1)
def _installed_targets() -> dict[str, str]:
    """The `chunkopt.retrievers` entry points of every installed distribution, read once per process."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def _targets() -> dict[str, str | type[Retriever]]:
    targets: dict[str, str | type[Retriever]] = dict(_BUILTIN_TARGETS)
    targets.update(_installed_targets())
    targets.update(_registered)
    return targets


def available_retrievers() -> list[str]:
    """Names `get_retriever` accepts, sorted."""
    return sorted(_targets())


def register_retriever(name: str, cls: type[Retriever]) -> None:
    """Register a Retriever subclass under `name` for this process (entry points persist it)."""
    if not (isinstance(cls, type) and issubclass(cls, Retriever)):
        raise TypeError(f"register_retriever({name!r}, ...) needs a subclass of chunkopt.retrievers.Retriever, got {cls!r}")
    _registered[name] = cls


def retriever_class(name: str) -> type[Retriever]:
    """The class of the retriever called `name`."""
    targets = _targets()
    if name not in targets:
        raise ParameterError(f"unknown retriever {name!r}; available retrievers: {', '.join(sorted(targets))}")
    target = targets[name]
    if isinstance(target, str):
        module_name, _, attr = target.partition(":")
        target = getattr(import_module(module_name), attr)
    if not (isinstance(target, type) and issubclass(target, Retriever)):
        raise ParameterError(f"retriever {name!r} ({target!r}) is not a subclass of chunkopt.retrievers.Retriever")
    return target


def get_retriever(name: str, **params: Any) -> Retriever:
    """An unfitted retriever: `get_retriever("bm25", k1=1.2, b=0.75)`."""
    return retriever_class(name)(**params)


def parse_retriever(spec: str) -> Retriever:
    """A retriever written as on the command line (what `--retriever` takes): `"bm25"`,
    `"neural precision=fp32"`, `"hybrid dense=neural rrf_k=60"`; parameters are checked here."""
    name, params = parse_spec(spec, "a retriever", "neural precision=fp32")
    return get_retriever(name, **params)


def retriever_family(retriever: Retriever) -> str | None:
    """"lexical" (bm25, tfidf), "dense" (a retriever that embeds: neural, endpoint, a plugin built on
    DenseRetriever), "hybrid" (bm25 fused with one that embeds), or None (lsa, other plugins).

    Generated queries rank configurations differently under each, so their agreement with real
    questions is measured and quoted per family (chunkopt.querygen.agreement_line).
    """
    from chunkopt.retrievers.dense import DenseRetriever
    from chunkopt.retrievers.hybrid import HybridRetriever
    from chunkopt.retrievers.sparse import BM25Retriever, TfidfRetriever

    if isinstance(retriever, (BM25Retriever, TfidfRetriever)):
        return "lexical"
    if isinstance(retriever, DenseRetriever):
        return "dense"
    if isinstance(retriever, HybridRetriever) and retriever_family(retriever.dense) == "dense":
        return "hybrid"
    return None


def fresh_retriever(retriever: str | Retriever) -> Retriever:
    """A new, unfitted retriever: built from its command-line form, or a copy of a Retriever with
    its parameters, so the caller's object is never refitted behind their back."""
    if isinstance(retriever, str):
        return parse_retriever(retriever)
    if isinstance(retriever, Retriever):
        return type(retriever)(**retriever.params)
    raise ParameterError(f"retriever must be a retriever name, like 'bm25' or 'neural precision=fp32', "
                         f"or a Retriever, got {retriever!r}")


__all__ = [
    "ENTRY_POINT_GROUP",
    "SCORE_ROW_BYTES",
    "SEARCH_BLOCK_BYTES",
    "Retriever",
    "available_retrievers",
    "fresh_retriever",
    "get_retriever",
    "parse_retriever",
    "normalise",
    "register_retriever",
    "retriever_class",
    "retriever_family",
    "top_k",
]
