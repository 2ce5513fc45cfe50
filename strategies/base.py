"""The Chunk record, the parameter schema and the Strategy base class every chunker shares.

A strategy only decides *where* to cut: it returns character spans, and the base class turns
them into Chunks sliced from the source text, so `text[chunk.start:chunk.end] == chunk.text`
holds by construction rather than by searching for the text afterwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Mapping, Sequence

from strategies import ids


class ParameterError(ValueError):
    """A strategy (or retriever, or sweep) parameter has a value outside what is valid."""


class BudgetTooSmall(ParameterError):
    """One character of the text costs more tokens than the whole budget (only possible below 4 tokens)."""

    def __init__(self, needed: int, character: str, offset: int) -> None:
        super().__init__(f"the character {character!r} at offset {offset} alone is {needed} tokens")
        self.needed, self.character, self.offset = needed, character, offset


@dataclass(frozen=True)
class Chunk:
    """A contiguous piece of a document: its text, where it sits, and how many tokens it costs."""

    text: str
    start: int  # character offset of the first character in the source text
    end: int  # character offset one past the last character
    n_tokens: int  # token count of `text` itself, in the chunker's tokenizer
    index: int = 0  # position of the chunk within its document, from 0
    doc_id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    id: str | None = None  # stable id (strategies.ids): document id, configuration and text, never position
    doc_hash: str | None = None  # SHA-256 of the whole document text the chunk was cut from
    config: str | None = None  # fingerprint of the configuration that cut it (strategies.ids.fingerprint)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written by `chunkopt chunk` (one object per chunk)."""
        return {
            "id": self.id,
            "doc_id": self.doc_id,
            "doc_hash": self.doc_hash,
            "config": self.config,
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "n_tokens": self.n_tokens,
            "text": self.text,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class Span:
    """Where a strategy cuts: a character range and the token count of the text inside it."""

    start: int
    end: int
    n_tokens: int


@dataclass(frozen=True)
class Param:
    """One declared parameter of a strategy: what the grid search varies and the JSON stores."""

    name: str
    type: type  # int, float, str, bool or tuple (a tuple of strings)
    default: Any
    help: str
    minimum: float | None = None  # inclusive
    maximum: float | None = None  # inclusive
    choices: tuple[Any, ...] | None = None
    nullable: bool = False  # None is a valid value (meaning "not set")
    unit: str = ""  # what a number counts, e.g. "tokens" or "sentences"; shown in help and used by CLI flags
    bound: str = ""  # a limit that depends on another parameter, in words (checked by the strategy's check())

    def describe_valid(self) -> str:
        """A phrase saying what values are valid, for error messages and `chunkopt strategies`."""
        if self.choices is not None:
            valid = "one of " + ", ".join(repr(c) for c in self.choices)
        elif self.type is int:
            valid = _range_phrase("an integer", self.minimum, self.maximum)
        elif self.type is float:
            valid = _range_phrase("a number", self.minimum, self.maximum)
        elif self.type is bool:
            valid = "true or false"
        elif self.type is tuple:
            valid = "a list of strings"
        else:
            valid = "a string"
        return valid + (f", {self.bound}" if self.bound else "") + (" or null" if self.nullable else "")

    def validate(self, value: Any, owner: str) -> Any:
        """Return `value` converted to this parameter's type, or raise ParameterError naming it."""
        if value is None and self.nullable:
            return None
        problem = f"{owner}: {self.name} must be {self.describe_valid()}, got {value!r}"
        if self.type is bool:
            if not isinstance(value, bool):
                raise ParameterError(problem)
        elif self.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise ParameterError(problem)
        elif self.type is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ParameterError(problem)
            value = float(value)
        elif self.type is tuple:
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise ParameterError(problem)
            if not all(isinstance(v, str) for v in value):
                raise ParameterError(problem)
            value = tuple(value)
        elif not isinstance(value, str):
            raise ParameterError(problem)
        if self.choices is not None and value not in self.choices:
            raise ParameterError(problem)
        if self.minimum is not None and value < self.minimum:
            raise ParameterError(problem)
        if self.maximum is not None and value > self.maximum:
            raise ParameterError(problem)
        return value


def _range_phrase(kind: str, minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{kind} from {minimum:g} to {maximum:g}"
    if minimum is not None:
        return f"{kind} >= {minimum:g}"
    if maximum is not None:
        return f"{kind} <= {maximum:g}"
    return kind


# Options every strategy has, appended to each subclass's schema. context_header is applied where documents
# have headings (chunkopt.sections.chunk_document): the heading path is prefixed to the text the retriever
# indexes, never to chunk.text, and its tokens count against the chunk's budget.
COMMON_PARAMS: tuple[Param, ...] = (
    Param("context_header", bool, False,
          "prefix the heading path to the text the retriever indexes (its tokens count against the budget)"),
)

_COMMON_DEFAULTS = {p.name: p.default for p in COMMON_PARAMS}


class Strategy:
    """Base class of every chunker: declare `name`, `schema` and `size_param`, implement `split`.

    Parameters are validated once, at construction, against the schema; `params` returns them
    as plain JSON-ready values, which is exactly what a tuned configuration stores. The options
    of COMMON_PARAMS are added to every subclass's schema.
    """

    name: ClassVar[str]
    schema: ClassVar[tuple[Param, ...]]
    size_param: ClassVar[str] = "chunk_size"  # the parameter that bounds every chunk's n_tokens
    description: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        schema = cls.__dict__.get("schema")
        if schema is not None:
            names = {p.name for p in schema}
            cls.schema = tuple(schema) + tuple(p for p in COMMON_PARAMS if p.name not in names)

    def __init__(self, **params: Any) -> None:
        known = {p.name: p for p in self.schema}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ParameterError(
                f"{self.name}: unknown parameter {unknown[0]!r}; valid parameters are "
                + ", ".join(known)
            )
        values = {}
        for p in self.schema:
            values[p.name] = p.validate(params.get(p.name, p.default), self.name)
        self._params = values
        self.check(values)

    def check(self, params: dict[str, Any]) -> None:
        """Checks that involve several parameters at once (e.g. overlap < chunk_size)."""

    @property
    def params(self) -> dict[str, Any]:
        """The validated parameters, JSON-ready (tuples become lists).

        A common option left at its default (context_header off) is left out, so the configurations,
        chunk ids and checkpoints of strategies that never use it stay what they were before it existed.
        """
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self._params.items()
                if not (k in _COMMON_DEFAULTS and v == _COMMON_DEFAULTS[k])}

    @property
    def budget(self) -> int:
        """The hard upper bound on any chunk's n_tokens."""
        return self._params[self.size_param]

    def __getattr__(self, item: str) -> Any:
        params = self.__dict__.get("_params")
        if params is not None and item in params:
            return params[item]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {item!r}")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._params == self._params  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self._params.items()))))

    @property
    def fingerprint(self) -> str:
        """Fingerprint of this configuration (name, params, tokenizer, chunkopt major version): part of every chunk id."""
        cached = self.__dict__.get("_fingerprint")
        if cached is None:
            cached = self.__dict__["_fingerprint"] = ids.fingerprint(self.name, self.params)
        return cached

    def split(self, text: str) -> list[Span]:
        """Where to cut `text`: spans in document order, each within the token budget."""
        raise NotImplementedError

    def chunk(self, text: str, doc_id: str | None = None) -> list[Chunk]:
        """Chunk one text. Offsets are character offsets into `text`."""
        if not isinstance(text, str):
            raise TypeError(f"{self.name}: chunk() takes the document text as str, got {type(text).__name__}")
        try:
            spans = self.split(text)
        except BudgetTooSmall as err:
            where = f" of {doc_id!r}" if doc_id is not None else ""
            raise ParameterError(
                f"{self.name}: {self.size_param} must be at least {err.needed} tokens for this text: the character "
                f"{err.character!r} at offset {err.offset}{where} alone is {err.needed} tokens, got {self.budget}"
            ) from None
        texts = [text[s.start : s.end] for s in spans]
        config, document_hash = self.fingerprint, ids.doc_hash(text)
        return [
            Chunk(text=piece, start=s.start, end=s.end, n_tokens=s.n_tokens, index=i, doc_id=doc_id,
                  id=chunk_id, doc_hash=document_hash, config=config)
            for i, (s, piece, chunk_id) in enumerate(zip(spans, texts, ids.chunk_ids(doc_id, config, texts)))
        ]


def check_overlap(strategy: Strategy, params: dict[str, Any], size_param: str = "chunk_size") -> None:
    """Overlap is shared between neighbours, so it must leave room for new text in each chunk."""
    if params["overlap"] >= params[size_param]:
        raise ParameterError(
            f"{strategy.name}: overlap must be smaller than {size_param} ({params[size_param]}), "
            f"got {params['overlap']}"
        )
