"""Chunking strategies as plugins: `available()` lists them, `get(name, **params)` builds one.

Built-ins and third-party strategies come through the same registry: the entry-point group
`chunkopt.strategies` (name = "package.module:Class"). `register()` adds one at run time,
which is handy in notebooks and tests.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from strategies.base import Chunk, Param, ParameterError, Span, Strategy
from strategies.tokens import DEFAULT_ENCODING, Tokenizer, get_tokenizer

ENTRY_POINT_GROUP = "chunkopt.strategies"

# The built-ins as entry-point targets, so a source checkout that was never pip-installed
# (and so has no entry-point metadata) still finds them through the same path.
_BUILTIN_TARGETS = {
    "fixed": "strategies.fixed:FixedChunker",
    "sentence": "strategies.sentence:SentenceChunker",
    "recursive": "strategies.recursive:RecursiveChunker",
    "semantic": "strategies.semantic:SemanticChunker",
}

_registered: dict[str, type[Strategy]] = {}
_FOREIGN_LIBRARIES = ("langchain", "llama_index", "chonkie")  # prefixes of strategies.wrapped.LIBRARIES


@lru_cache(maxsize=1)
def _installed_targets() -> dict[str, str]:
    """The entry points of every installed distribution, read once per process: scanning the
    metadata of a few hundred installed packages takes tens of milliseconds, and a sweep asks
    for strategy classes thousands of times."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def _targets() -> dict[str, str | type[Strategy]]:
    targets: dict[str, str | type[Strategy]] = dict(_BUILTIN_TARGETS)
    targets.update(_installed_targets())
    targets.update(_registered)
    return targets


def available() -> list[str]:
    """Names of every strategy that `get()` can build, sorted."""
    return sorted(_targets())


def register(name: str, cls: type[Strategy]) -> None:
    """Register a Strategy subclass under `name` for this process (entry points persist it)."""
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise TypeError(f"register({name!r}, ...) needs a subclass of strategies.Strategy, got {cls!r}")
    _registered[name] = cls


def strategy_class(name: str) -> type[Strategy]:
    """The class registered under `name`, or a foreign splitter named "langchain:ClassName" (strategies.wrap)."""
    if isinstance(name, str) and ":" in name and name.split(":")[0] in _FOREIGN_LIBRARIES:
        from strategies.wrapped import foreign_class

        return foreign_class(name)
    targets = _targets()
    if name not in targets:
        raise ParameterError(f"unknown strategy {name!r}; available strategies: {', '.join(sorted(targets))}")
    target = targets[name]
    if isinstance(target, str):
        module_name, _, attr = target.partition(":")
        target = getattr(import_module(module_name), attr)
    if not (isinstance(target, type) and issubclass(target, Strategy)):
        raise ParameterError(f"strategy {name!r} ({target!r}) is not a subclass of strategies.Strategy")
    return target


_CLASSES = {
    "FixedChunker": "strategies.fixed",
    "RecursiveChunker": "strategies.recursive",
    "SentenceChunker": "strategies.sentence",
    "SemanticChunker": "strategies.semantic",
}


def __getattr__(name: str) -> Any:
    """`from strategies import SentenceChunker` without importing spaCy for users of `fixed`."""
    if name in _CLASSES:
        return getattr(import_module(_CLASSES[name]), name)
    raise AttributeError(f"module 'strategies' has no attribute {name!r}")


def wrap(splitter: Any, name: str | None = None, encoding: str = DEFAULT_ENCODING) -> Strategy:
    """A foreign splitter (LangChain, LlamaIndex, chonkie, or a str -> list[str] callable) as a strategy."""
    from strategies.wrapped import wrap as wrap_splitter

    return wrap_splitter(splitter, name=name, encoding=encoding)


def get(name: str, **params: Any) -> Strategy:
    """A configured chunker: `get("fixed", chunk_size=256, overlap=32)`."""
    return strategy_class(name)(**params)


__all__ = [
    "Chunk",
    "FixedChunker",
    "RecursiveChunker",
    "SentenceChunker",
    "SemanticChunker",
    "DEFAULT_ENCODING",
    "Param",
    "ParameterError",
    "Span",
    "Strategy",
    "Tokenizer",
    "available",
    "get",
    "get_tokenizer",
    "register",
    "strategy_class",
    "wrap",
]
