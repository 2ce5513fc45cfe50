"""A LangChain text splitter that gives exactly chunkopt's chunks: `TunedTextSplitter.from_config("tuned.json")`.

`split_text` returns the chunk texts; `create_documents` and `split_documents` return LangChain
Documents whose `id` is the chunk's stable id and whose metadata holds the exact `start_index`
and `end_index` (character offsets, carried from the chunker rather than found again with
str.find as LangChain's own `add_start_index` does), `chunk_id`, `doc_hash`, `config` and, for
Markdown and reStructuredText (`format=`, else the `source`'s extension), `headings` (and
`context` where the strategy's context_header is on). The document id that goes into each chunk id is the
Document's `id`, else its metadata's `source` (LangChain's loaders set it to the file path).
Needs the `langchain` extra (langchain-text-splitters).
"""

from __future__ import annotations

import copy
import os
from typing import Any, Iterable

from langchain_core.documents import Document
from langchain_text_splitters import TextSplitter

from chunkopt.integrations import chunk_metadata, chunk_text
from strategies.base import Chunk, Strategy
from strategies.tokens import DEFAULT_ENCODING, get_tokenizer


class TunedTextSplitter(TextSplitter):
    """LangChain's TextSplitter interface over a chunkopt strategy (budget and overlap in its tokens)."""

    def __init__(self, chunker: Strategy, *, id_key: str = "source", format: str | None = None, **kwargs: Any) -> None:
        tokenizer = get_tokenizer(chunker.params.get("encoding", DEFAULT_ENCODING))
        overlap = chunker.params.get("overlap", 0)
        kwargs = {"chunk_size": chunker.budget, "chunk_overlap": overlap if isinstance(overlap, int) and overlap < chunker.budget else 0,
                  "length_function": tokenizer.count, "add_start_index": True, "strip_whitespace": False, **kwargs}
        super().__init__(**kwargs)
        self.chunker = chunker
        self.id_key = id_key
        self.format = format  # "markdown" or "rst" for headings; None: from the source's extension

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], **kwargs: Any) -> "TunedTextSplitter":
        """The splitter a tuned configuration (`chunkopt sweep --out`) describes."""
        from chunkopt.config import load_config

        return cls(load_config(path), **kwargs)

    def split_text(self, text: str) -> list[str]:
        return [chunk.text for chunk in chunk_text(self.chunker, text, None, self.format)]

    def create_documents(self, texts: list[str], metadatas: list[dict[Any, Any]] | None = None) -> list[Document]:
        metadatas = metadatas or [{}] * len(texts)
        documents: list[Document] = []
        for text, metadata in zip(texts, metadatas):
            documents.extend(self._documents(text, metadata, metadata.get(self.id_key)))
        return documents

    def split_documents(self, documents: Iterable[Document]) -> list[Document]:
        out: list[Document] = []
        for document in documents:
            doc_id = document.id or document.metadata.get(self.id_key)
            out.extend(self._documents(document.page_content, document.metadata, doc_id))
        return out

    def _documents(self, text: str, metadata: dict[Any, Any], doc_id: Any) -> list[Document]:
        chunks = chunk_text(self.chunker, text, None if doc_id is None else str(doc_id), self.format,
                            metadata.get(self.id_key))
        return [Document(id=c.id, page_content=c.text, metadata=_metadata(metadata, c)) for c in chunks]


def _metadata(metadata: dict[Any, Any], chunk: Chunk) -> dict[Any, Any]:
    return {**copy.deepcopy(metadata), "start_index": chunk.start, "end_index": chunk.end, **chunk_metadata(chunk)}
