"""A LlamaIndex node parser that gives exactly chunkopt's chunks: `TunedNodeParser.from_config("tuned.json")`.

Each node's `node_id` is the chunk's stable id (from the LlamaIndex Document's `id_`, the
configuration and the chunk text), `start_char_idx`/`end_char_idx` are the chunk's exact
character offsets into the document's text, and its metadata holds the document's metadata plus
`chunk_id`, `doc_hash`, `config` and, for Markdown and reStructuredText (`format=`, else the
extension of the `file_path`/`file_name` metadata SimpleDirectoryReader sets), `headings`.
LlamaIndex's own post-processing re-finds offsets with str.find, which can land on an earlier copy of a repeated
text; the parser puts the carried offsets back afterwards. Needs the `llama-index` extra.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Sequence

from llama_index.core.node_parser import NodeParser
from llama_index.core.schema import BaseNode, Document, MetadataMode, NodeRelationship, TextNode
from pydantic import PrivateAttr

from chunkopt.integrations import chunk_metadata, chunk_text
from strategies.base import Strategy


class TunedNodeParser(NodeParser):
    """LlamaIndex's NodeParser interface over a chunkopt strategy."""

    _chunker: Strategy = PrivateAttr()

    _format: str | None = PrivateAttr(default=None)

    def __init__(self, chunker: Strategy, *, format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._chunker = chunker
        self._format = format  # "markdown" or "rst" for headings; None: from the file_path / file_name metadata

    @property
    def chunker(self) -> Strategy:
        return self._chunker

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], **kwargs: Any) -> "TunedNodeParser":
        """The node parser a tuned configuration (`chunkopt sweep --out`) describes."""
        from chunkopt.config import load_config

        return cls(load_config(path), **kwargs)

    @classmethod
    def class_name(cls) -> str:
        return "TunedNodeParser"

    def _parse_nodes(self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any) -> List[BaseNode]:
        out: List[BaseNode] = []
        for node in nodes:
            text = node.get_content(metadata_mode=MetadataMode.NONE)
            source = node.as_related_node_info()
            path = node.metadata.get("file_path") or node.metadata.get("file_name")
            for chunk in chunk_text(self._chunker, text, node.node_id, self._format, path):
                out.append(TextNode(
                    id_=chunk.id, text=chunk.text, start_char_idx=chunk.start, end_char_idx=chunk.end,
                    metadata=chunk_metadata(chunk), relationships={NodeRelationship.SOURCE: source},
                    excluded_embed_metadata_keys=list(node.excluded_embed_metadata_keys),
                    excluded_llm_metadata_keys=list(node.excluded_llm_metadata_keys),
                ))
        return out

    def _postprocess_parsed_nodes(self, nodes: List[BaseNode], parent_doc_map: Dict[str, Document]) -> List[BaseNode]:
        carried = {n.node_id: (n.start_char_idx, n.end_char_idx) for n in nodes if isinstance(n, TextNode)}
        nodes = super()._postprocess_parsed_nodes(nodes, parent_doc_map)
        for node in nodes:
            if node.node_id in carried:
                node.start_char_idx, node.end_char_idx = carried[node.node_id]
        return nodes
