"""Compatibility: the retrievers moved to the `chunkopt.retrievers` package; these names still import from here."""

from chunkopt.retrievers import Retriever, available_retrievers, get_retriever, retriever_class, top_k
from chunkopt.retrievers.dense import EmbeddingCache, clear_embedding_cache

__all__ = ["EmbeddingCache", "Retriever", "available_retrievers", "clear_embedding_cache", "get_retriever",
           "retriever_class", "top_k"]
