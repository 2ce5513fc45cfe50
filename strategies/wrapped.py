"""Foreign splitters as chunkopt strategies: `wrap(splitter)` and names like "langchain:RecursiveCharacterTextSplitter".

What can be wrapped, tried in this order: anything with `split_text(str) -> list[str]` (LangChain
text splitters, LlamaIndex text splitters), a LlamaIndex node parser (`get_nodes_from_documents`),
a chonkie chunker (`chunk(str)` returning chunks with `.text`), and a plain `str -> list[str]`
callable. The foreign library is never imported here unless a name asks for it.

Foreign splitters return text, not offsets, so offsets are recovered by a forward cursor over
the document (the one place chunkopt searches for text, and only for splitters that do not say
where their pieces are):

1. A chonkie chunk whose `start_index:end_index` slices to its text keeps those offsets.
2. Otherwise a piece is located at its first verbatim occurrence that starts after the previous
   piece's start (starts only move forward; overlapping pieces are found inside the previous one).
3. A piece that does not occur verbatim there is matched whitespace-tolerantly: its leading and
   trailing whitespace are ignored and each run of whitespace inside it matches any run of
   whitespace (or none) in the document; the chunk is the document's text that matched, so
   `text[chunk.start:chunk.end] == chunk.text` still holds.
4. Otherwise the splitter rewrote the text, and chunking fails with an error naming the splitter,
   the document and the piece. Empty and whitespace-only pieces are dropped.

Token counts are measured in chunkopt's tokenizer (the `encoding` parameter). The size budget is
the splitter's own (`chunk_size` in its units: characters for LangChain's default), so it is
reported as the strategy's size but not enforced.
"""

from __future__ import annotations

import inspect
import re
from functools import lru_cache
from importlib import import_module
from typing import Any, Callable, ClassVar

from strategies.base import COMMON_PARAMS, Chunk, Param, ParameterError, Span, Strategy
from strategies.tokens import DEFAULT_ENCODING, get_tokenizer

# Prefix of a foreign name -> (module holding its classes, the pip extra that installs it).
LIBRARIES = {
    "langchain": ("langchain_text_splitters", "langchain"),
    "llama_index": ("llama_index.core.node_parser", "llama-index"),
    "chonkie": ("chonkie", "chonkie"),
}
_JSON_SCALARS = (type(None), bool, int, float, str)


class PieceNotFound(ParameterError):
    """A wrapped splitter returned text that is not in the document, even allowing for whitespace."""


class _JsonParam(Param):
    """A foreign constructor's parameter: any JSON value; the foreign library validates it when it is built."""

    def validate(self, value: Any, owner: str) -> Any:
        if isinstance(value, (list, tuple)) and all(isinstance(v, _JSON_SCALARS) for v in value):
            return list(value)
        if not isinstance(value, _JSON_SCALARS):
            raise ParameterError(f"{owner}: {self.name} must be a JSON value (number, string, true/false, null "
                                 f"or a list of them), got {value!r}")
        return value

    def describe_valid(self) -> str:
        return "a value the splitter accepts"


_ENCODING = Param("encoding", str, DEFAULT_ENCODING, "tiktoken encoding that counts chunkopt's tokens (not the splitter's)")


class WrappedStrategy(Strategy):
    """A foreign splitter behind the Strategy interface; see the module docstring for the offset rules."""

    name = "wrapped"
    schema: ClassVar[tuple[Param, ...]] = (_ENCODING,)
    size_param = "encoding"  # replaced by the splitter's chunk_size where it has one
    enforces_budget = False  # the size is the splitter's own: chunkopt reports it, never cuts to it

    def __init__(self, splitter: Any = None, *, name: str | None = None, **params: Any) -> None:
        super().__init__(**params)
        if splitter is None:
            ours = {"encoding", *(p.name for p in COMMON_PARAMS)}
            splitter = self.build_splitter({k: v for k, v in self._params.items() if k not in ours})
        if name is not None:
            self.name = name  # an instance attribute: the name is part of every chunk id's fingerprint
        self.splitter = splitter
        self._pieces = _piece_reader(splitter, self.name)

    def build_splitter(self, params: dict[str, Any]) -> Any:
        raise ParameterError(f"{self.name}: give the splitter to wrap, e.g. strategies.wrap(splitter)")

    @property
    def budget(self) -> Any:
        """The splitter's own size setting, in its own units (reported, not enforced); None if it has none."""
        return self._params.get(self.size_param) if self.size_param != "encoding" else None

    def __eq__(self, other: object) -> bool:
        """Built from a name: equal names and params. Wrapped by hand: the very same splitter object."""
        if not (super().__eq__(other) and other.name == self.name):  # type: ignore[attr-defined]
            return False
        return type(self) is not WrappedStrategy or other.splitter is self.splitter  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.name, super().__hash__()))

    def __reduce__(self) -> tuple[Any, ...]:
        """Built from a name: rebuilt from it (its class is made at run time); wrapped by hand: the splitter is pickled."""
        if type(self) is WrappedStrategy:
            return (_rewrap, (self.splitter, self.name, self._params["encoding"]))
        return (_rebuild, (self.name, dict(self._params)))

    def split(self, text: str) -> list[Span]:
        tokenizer = get_tokenizer(self._params["encoding"])
        ranges = recover_offsets(text, self._pieces(text), self.name)
        counts = tokenizer.count_many([text[a:b] for a, b in ranges])
        return [Span(a, b, n) for (a, b), n in zip(ranges, counts)]

    def chunk(self, text: str, doc_id: str | None = None) -> list[Chunk]:
        try:
            return super().chunk(text, doc_id)
        except PieceNotFound as err:
            if doc_id is None:
                raise
            raise PieceNotFound(f"{err} (document {doc_id!r})") from None


def wrap(splitter: Any, name: str | None = None, encoding: str = DEFAULT_ENCODING) -> Strategy:
    """A chunkopt strategy that cuts where `splitter` does (a LangChain splitter, LlamaIndex node parser,
    chonkie chunker or `str -> list[str]` callable), with exact offsets and chunkopt token counts.

    `name` goes into chunk ids and tables; by default "<module>:<ClassName>" (or the function's name).
    A hand-wrapped splitter's own settings are unknown to chunkopt, so give differently configured
    splitters different names; one built by name (`strategies.get("langchain:...", chunk_size=...)`)
    has its settings as parameters, which its ids and the tables include.
    """
    _piece_reader(splitter, repr(splitter))  # refuses what cannot be wrapped, now rather than at the first text
    return WrappedStrategy(splitter, name=name or _default_name(splitter), encoding=encoding)


def _rewrap(splitter: Any, name: str, encoding: str) -> Strategy:
    return WrappedStrategy(splitter, name=name, encoding=encoding)


def _rebuild(name: str, params: dict[str, Any]) -> Strategy:
    return foreign_class(name)(**params)


def _default_name(splitter: Any) -> str:
    cls = splitter if inspect.isfunction(splitter) else type(splitter)
    library = cls.__module__.split(".")[0]
    return f"{library}:{getattr(cls, '__qualname__', cls.__name__)}"


def _piece_reader(splitter: Any, name: str) -> Callable[[str], list[tuple[str, int | None, int | None]]]:
    """A function from a text to the splitter's pieces, each (text, start or None, end or None)."""
    if callable(getattr(splitter, "split_text", None)):
        return lambda text: [(p, None, None) for p in _strings(splitter.split_text(text), name)]
    if callable(getattr(splitter, "get_nodes_from_documents", None)):
        def nodes(text: str) -> list[tuple[str, int | None, int | None]]:
            from llama_index.core import Document

            found = splitter.get_nodes_from_documents([Document(text=text)])
            # LlamaIndex finds its own offsets with str.find; the cursor below does the same, documented.
            return [(n.get_content(metadata_mode="none"), None, None) for n in found]
        return nodes
    if callable(getattr(splitter, "chunk", None)):
        def chonkie(text: str) -> list[tuple[str, int | None, int | None]]:
            return [(c.text, getattr(c, "start_index", None), getattr(c, "end_index", None)) for c in splitter.chunk(text)]
        return chonkie
    if callable(splitter):
        return lambda text: [(p, None, None) for p in _strings(splitter(text), name)]
    raise TypeError(f"cannot wrap {splitter!r}: expected a LangChain text splitter, a LlamaIndex node parser, "
                    "a chonkie chunker or a callable from str to list[str]")


def _strings(pieces: Any, name: str) -> list[str]:
    if isinstance(pieces, str) or not all(isinstance(p, str) for p in pieces):
        raise ParameterError(f"{name}: a wrapped splitter must return a list of strings, got {type(pieces).__name__}")
    return list(pieces)


def recover_offsets(text: str, pieces: list[tuple[str, int | None, int | None]], name: str) -> list[tuple[int, int]]:
    """Character ranges of the pieces in `text`, by the forward-cursor rules of the module docstring."""
    ranges: list[tuple[int, int]] = []
    cursor = 0  # a piece starts at or after this offset: one past the previous piece's start
    for number, (piece, start, end) in enumerate(pieces):
        if not piece.strip():
            continue
        if start is not None and end is not None and start >= cursor and text[start:end] == piece:
            found = (start, end)
        else:
            at = text.find(piece, cursor)
            found = (at, at + len(piece)) if at >= 0 else _tolerant(text, piece, cursor)
        if found is None:
            raise PieceNotFound(
                f"{name}: piece {number} ({_preview(piece)}) does not occur in the text at or after offset {cursor}, "
                "even allowing for whitespace; the splitter rewrites text, so its chunks cannot be mapped onto the document"
            )
        ranges.append(found)
        cursor = found[0] + 1
    return ranges


def _tolerant(text: str, piece: str, cursor: int) -> tuple[int, int] | None:
    words = piece.split()
    match = re.compile(r"\s*".join(re.escape(w) for w in words)).search(text, cursor)
    return match.span() if match else None


def _preview(piece: str) -> str:
    return repr(piece if len(piece) <= 60 else piece[:57] + "...")


# ---- foreign names: "langchain:RecursiveCharacterTextSplitter" ----------------------------------


@lru_cache(maxsize=None)
def foreign_class(name: str) -> type[Strategy]:
    """The Strategy class for a foreign splitter class named "<library>:<ClassName>", its schema read from the constructor."""
    library, _, class_name = name.partition(":")
    if library not in LIBRARIES or not class_name:
        raise ParameterError(f"unknown strategy {name!r}; a foreign splitter is named "
                             + ", ".join(f"'{lib}:ClassName'" for lib in LIBRARIES))
    module_name, extra = LIBRARIES[library]
    try:
        module = import_module(module_name)
    except ImportError:
        raise ParameterError(f"{name} needs {module_name.split('.')[0]}: pip install 'chunkopt[{extra}]'") from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise ParameterError(f"unknown strategy {name!r}: {module_name} has no class {class_name!r}; "
                             f"its splitters include {', '.join(_splitter_names(module)[:12])}")
    params = _constructor_params(cls)
    size = "chunk_size" if "chunk_size" in params else "encoding"

    def build_splitter(self: WrappedStrategy, kwargs: dict[str, Any]) -> Any:
        given = {k: v for k, v in kwargs.items() if v != params[k]}  # defaults stay the library's own
        try:
            return cls(**given)
        except Exception as exc:  # the library's validation: name it, it is a user's parameter error
            raise ParameterError(f"{name}: {type(exc).__name__}: {exc}") from None

    schema = tuple(_JsonParam(k, object, v, f"{class_name} parameter") for k, v in params.items()) + (_ENCODING,)
    return type(class_name, (WrappedStrategy,), {
        "name": name, "schema": schema, "size_param": size, "build_splitter": build_splitter,
        "description": f"{class_name} from {module_name}, wrapped (offsets by forward cursor, its own size budget)",
        "__module__": __name__,
    })


def _constructor_params(cls: type) -> dict[str, Any]:
    """JSON-valued keyword parameters of `cls`'s constructor and, through **kwargs, of its bases', with defaults."""
    params: dict[str, Any] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        signature = inspect.signature(init)
        for p in list(signature.parameters.values())[1:]:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is not p.empty and p.name not in params:
                default = list(p.default) if isinstance(p.default, tuple) else p.default
                if isinstance(default, _JSON_SCALARS) or (isinstance(default, list) and all(isinstance(v, _JSON_SCALARS) for v in default)):
                    params[p.name] = default
        if not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            break
    params.pop("encoding", None)  # chunkopt's own parameter of that name counts the tokens
    return params


def _splitter_names(module: Any) -> list[str]:
    return sorted(n for n, v in vars(module).items() if isinstance(v, type) and not n.startswith("_")
                  and any(callable(getattr(v, m, None)) for m in ("split_text", "get_nodes_from_documents", "chunk")))
