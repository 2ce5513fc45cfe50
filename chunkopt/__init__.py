"""chunkopt: measure how to chunk documents for retrieval, instead of guessing.

    from chunkopt import load_corpus, load_queries, evaluate, Sweep, load_config

Names are imported on first use, so `import chunkopt` stays fast.
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Document": "chunkopt.corpus",
    "Corpus": "chunkopt.corpus",
    "load_corpus": "chunkopt.corpus",
    "Query": "chunkopt.queries",
    "Reference": "chunkopt.queries",
    "load_queries": "chunkopt.queries",
    "generate_queries": "chunkopt.querygen",
    "GeneratedQueries": "chunkopt.queries",
    "read_squad": "chunkopt.squad",
    "evaluate": "chunkopt.evaluation",
    "Result": "chunkopt.evaluation",
    "get_retriever": "chunkopt.retrievers",
    "Sweep": "chunkopt.sweep",
    "Constraints": "chunkopt.selection",
    "load_config": "chunkopt.config",
    "read_config": "chunkopt.config",
    "save_config": "chunkopt.config",
    "tuned_config": "chunkopt.config",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'chunkopt' has no attribute {name!r}")


__all__ = ["__version__", *_EXPORTS]
