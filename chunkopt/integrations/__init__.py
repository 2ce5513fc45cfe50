"""Adapters between chunkopt and the libraries a RAG pipeline is built with. The core never imports them.

- `chunkopt.integrations.langchain`: `TunedTextSplitter`, a LangChain text splitter (extra `langchain`)
- `chunkopt.integrations.llama_index`: `TunedNodeParser`, a LlamaIndex node parser (extra `llama-index`)
- `chunkopt.integrations.foreign`: LangChain, LlamaIndex and chonkie splitters named in a spec
  ("langchain:RecursiveCharacterTextSplitter chunk_size=1000"), built as chunkopt strategies
- `chunkopt.integrations.chroma_store`: the Chroma database `chunkopt index` writes (extra `chroma`)
- `chunkopt.integrations.dask`: `on_dask`, a sweep on a Dask cluster, the corpus sent once (extra `dask`)
"""

from __future__ import annotations

from pathlib import PurePath
from types import MappingProxyType
from typing import Any

from chunkopt.corpus import FORMATS, Document
from chunkopt.sections import chunk_document, outline
from strategies.base import Chunk, Strategy


def chunk_text(chunker: Strategy, text: str, doc_id: str | None, fmt: str | None, source: Any = None) -> list[Chunk]:
    """A foreign document's chunks with section metadata: its format is `fmt`, else read from `source`'s
    extension (".md", ".rst"), so headings and context_header work on Markdown and reStructuredText.

    A foreign document's text is already extracted, so HTML headings (known only from the markup) are not found.
    """
    if fmt is None and isinstance(source, (str, PurePath)):
        fmt = FORMATS.get(PurePath(source).suffix.lower())
    headings = outline(text, fmt)
    metadata = MappingProxyType({"format": fmt, "outline": headings} if headings else {})
    return chunk_document(chunker, Document(doc_id or "", text, metadata))  # no id: ids hash an empty one


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """What every adapter puts in a foreign record's metadata: the stable id, hashes and section metadata."""
    return {"chunk_id": chunk.id, "doc_hash": chunk.doc_hash, "config": chunk.config, **dict(chunk.metadata)}
