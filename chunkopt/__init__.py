"""chunkopt: measure how to chunk documents for retrieval, instead of guessing."""

__version__ = "0.1.0"
