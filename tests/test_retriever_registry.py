"""Third-party retrievers join the registry through `register_retriever()` or the `chunkopt.retrievers` entry points."""

import numpy as np
import pytest
from click.testing import CliRunner

import chunkopt.retrievers as retrievers
from chunkopt.cli import main
from chunkopt.retrievers import Retriever
from strategies.base import ParameterError

PLUGIN_MODULE = "chunkopt_overlap_retriever_plugin"

PLUGIN_SOURCE = '''
import numpy as np

from chunkopt.retrievers import Retriever
from strategies.base import Param


class WordOverlapRetriever(Retriever):
    """Counts the query words a text shares with the query (a toy third-party retriever)."""

    name = "overlap"
    description = "shared words, counted"
    schema = (Param("lowercase", bool, True, "compare words in lower case"),)

    def _words(self, text):
        return set((text.lower() if self._params["lowercase"] else text).split())

    def _fit(self, texts):
        self.words = [self._words(t) for t in texts]

    def _score(self, queries):
        return np.array([[len(self._words(q) & w) for w in self.words] for q in queries], dtype=float)

    @property
    def index_bytes(self):
        return 0


class NotARetriever:
    pass
'''


@pytest.fixture
def registry(monkeypatch):
    """A registry with nothing registered at run time, restored after the test."""
    monkeypatch.setattr(retrievers, "_registered", {})
    return retrievers


@pytest.fixture
def installed_plugin(fake_distribution):
    """A distribution on sys.path that declares entry points in group chunkopt.retrievers."""
    fake_distribution(PLUGIN_MODULE, PLUGIN_SOURCE, "chunkopt.retrievers", {"overlap": f"{PLUGIN_MODULE}:WordOverlapRetriever", "broken": f"{PLUGIN_MODULE}:NotARetriever"}, retrievers)


class Constant(Retriever):
    name = "constant"

    def _fit(self, texts):
        pass

    def _score(self, queries):
        return np.ones((len(queries), self.n_texts))


def test_builtins_are_available():
    assert {"tfidf", "bm25", "lsa", "neural"} <= set(retrievers.available_retrievers())


def test_registered_retriever_is_listed_and_built(registry):
    registry.register_retriever("constant", Constant)
    assert "constant" in registry.available_retrievers()
    retriever = registry.get_retriever("constant").fit(["a", "b", "c"])
    assert retriever.search(["q"], k=2)[0].tolist() == [[0, 1]]  # equal scores: lowest index first


def test_registering_a_class_that_is_not_a_retriever_is_a_type_error(registry):
    with pytest.raises(TypeError, match=r"register_retriever\('constant', \.\.\.\) needs a subclass"):
        registry.register_retriever("constant", dict)


def test_entry_point_retriever_is_listed_and_searches(registry, installed_plugin):
    assert {"overlap", "broken"} <= set(registry.available_retrievers())
    retriever = registry.get_retriever("overlap").fit(["red apples", "Green pears and apples", "blue sky"])
    assert type(retriever).__module__ == PLUGIN_MODULE
    indices, scores = retriever.search(["green apples"], k=2)
    assert indices.tolist() == [[1, 0]] and scores.tolist() == [[2.0, 1.0]]


def test_entry_point_retriever_validates_its_parameters(registry, installed_plugin):
    with pytest.raises(ParameterError, match=r"overlap: lowercase must be true or false, got 'yes'"):
        registry.get_retriever("overlap", lowercase="yes")


def test_entry_point_that_is_not_a_retriever_is_a_parameter_error(registry, installed_plugin):
    with pytest.raises(ParameterError, match=r"retriever 'broken' .* is not a subclass of chunkopt.retrievers.Retriever"):
        registry.get_retriever("broken")


def test_unknown_retriever_names_the_available_ones(registry):
    with pytest.raises(ParameterError, match=r"unknown retriever 'dpr'; available retrievers: bm25, .*tfidf"):
        registry.get_retriever("dpr")


def test_retrievers_command_lists_plugins_with_their_parameters(registry, installed_plugin):
    result = CliRunner().invoke(main, ["retrievers"])
    assert result.exit_code == 0, result.output
    assert "overlap: shared words, counted\n  lowercase (default True; true or false): compare words in lower case\n" in result.output
    assert "bm25: Okapi BM25 over word counts, as a sparse matrix\n  k1 (default 1.5;" in result.output
    assert "broken: cannot be loaded: retriever 'broken'" in result.output


def test_old_module_still_imports_the_retrievers():
    from chunkopt.retrieval import get_retriever

    assert type(get_retriever("bm25")) is type(retrievers.get_retriever("bm25"))


