"""Stable chunk ids: a hash of what a chunk *is*, never of where it sits.

A chunk's id hashes the document id, the configuration's fingerprint and the chunk's own text,
plus an occurrence number only where the same text repeats within the document (the second
copy is occurrence 1, the third 2, ...). Editing one paragraph therefore changes only the ids
of the chunks whose text changed; chunks before and after keep theirs even though their
positions moved. The fingerprint covers the strategy, its validated parameters, the tokenizer
and chunkopt's major version, so a different configuration never reuses an id.

Hashes are SHA-256 in hex: a document hash is the full 64 characters (the same value as
`Corpus.fingerprint()`), a fingerprint 16 characters and a chunk id 32.
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Mapping

FINGERPRINT_CHARS = 16
ID_CHARS = 32
_SEP = "\x1f"  # ASCII unit separator: cannot be confused with text boundaries in practice


def chunkopt_major() -> str:
    """The major version of the installed chunkopt distribution (ids change only when it does)."""
    try:
        return version("chunkopt").split(".")[0]
    except PackageNotFoundError:  # a source checkout that was never installed
        return "0"


def fingerprint(strategy: str, params: Mapping[str, Any]) -> str:
    """Fingerprint of a configuration: strategy name, validated params, tokenizer, chunkopt major version."""
    payload = {
        "strategy": strategy,
        "params": dict(params),
        "tokenizer": params.get("encoding"),  # every tokenizing built-in has it; None for one that counts otherwise
        "chunkopt": chunkopt_major(),
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:FINGERPRINT_CHARS]


def doc_hash(text: str) -> str:
    """SHA-256 of a document's text (UTF-8), hex: what tells a changed document from an unchanged one."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_id(doc_id: str | None, config: str, text: str, occurrence: int = 0) -> str:
    """The id of the `occurrence`-th chunk (from 0) with this text in this document under this configuration."""
    parts = [doc_id or "", config, text] + ([str(occurrence)] if occurrence else [])
    return hashlib.sha256(_SEP.join(parts).encode("utf-8")).hexdigest()[:ID_CHARS]


def chunk_ids(doc_id: str | None, config: str, texts: list[str]) -> list[str]:
    """Ids of a document's chunks in order, numbering the occurrences of repeated texts."""
    seen: dict[str, int] = {}
    ids = []
    for text in texts:
        occurrence = seen.get(text, 0)
        seen[text] = occurrence + 1
        ids.append(chunk_id(doc_id, config, text, occurrence))
    return ids
