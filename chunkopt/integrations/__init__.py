"""Adapters between chunkopt and the libraries a RAG pipeline is built with. The core never imports them.

- `chunkopt.integrations.langchain`: `TunedTextSplitter`, a LangChain text splitter (extra `langchain`)
- `chunkopt.integrations.llama_index`: `TunedNodeParser`, a LlamaIndex node parser (extra `llama-index`)
- `chunkopt.integrations.foreign`: LangChain, LlamaIndex and chonkie splitters named in a spec
  ("langchain:RecursiveCharacterTextSplitter chunk_size=1000"), built as chunkopt strategies
- `chunkopt.integrations.chroma_store`: the Chroma database `chunkopt index` writes (extra `chroma`)
- `chunkopt.integrations.dask`: `on_dask`, a sweep on a Dask cluster, the corpus sent once (extra `dask`)
"""

from __future__ import annotations

from typing import Any

from strategies.base import Chunk


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """What every adapter puts in a foreign record's metadata: the stable id, hashes and section metadata."""
    return {"chunk_id": chunk.id, "doc_hash": chunk.doc_hash, "config": chunk.config, **dict(chunk.metadata)}
