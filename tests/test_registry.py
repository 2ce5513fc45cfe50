"""Third-party strategies join the registry through `register()` or the `chunkopt.strategies` entry points."""

import pytest

import strategies
from strategies import Param, ParameterError, Span, Strategy

PLUGIN_MODULE = "chunkopt_halves_plugin"

PLUGIN_SOURCE = '''
from strategies import Param, Span, Strategy, get_tokenizer


class HalvesChunker(Strategy):
    """Cuts a text into two halves of characters (a toy third-party strategy)."""

    name = "halves"
    schema = (Param("chunk_size", int, 512, "most tokens in a chunk", minimum=1, unit="tokens"),)

    def split(self, text):
        mid, count = len(text) // 2, get_tokenizer().count
        return [Span(a, b, count(text[a:b])) for a, b in ((0, mid), (mid, len(text))) if b > a]


class NotAStrategy:
    pass
'''


class Halves(Strategy):
    name = "halves"
    schema = (Param("chunk_size", int, 512, "most tokens in a chunk", minimum=1, unit="tokens"),)

    def split(self, text):
        mid = len(text) // 2
        return [Span(0, mid, mid), Span(mid, len(text), len(text) - mid)]


@pytest.fixture
def registry(monkeypatch):
    """A registry with nothing registered at run time, restored after the test."""
    monkeypatch.setattr(strategies, "_registered", {})
    return strategies


@pytest.fixture
def installed_plugin(fake_distribution):
    """A distribution on sys.path that declares entry points in group chunkopt.strategies."""
    fake_distribution(PLUGIN_MODULE, PLUGIN_SOURCE, "chunkopt.strategies", {"halves": f"{PLUGIN_MODULE}:HalvesChunker", "broken": f"{PLUGIN_MODULE}:NotAStrategy"}, strategies)


def test_builtins_are_available():
    assert {"fixed", "recursive", "sentence", "semantic"} <= set(strategies.available())


def test_registered_strategy_is_listed_and_built(registry):
    registry.register("halves", Halves)
    assert "halves" in registry.available()
    chunker = registry.get("halves", chunk_size=64)
    assert isinstance(chunker, Halves) and chunker.params == {"chunk_size": 64}
    assert [c.text for c in chunker.chunk("abcdef")] == ["abc", "def"]


def test_registering_a_class_that_is_not_a_strategy_is_a_type_error(registry):
    with pytest.raises(TypeError, match=r"register\('halves', \.\.\.\) needs a subclass of strategies.Strategy"):
        registry.register("halves", dict)


def test_entry_point_strategy_is_listed_and_built(registry, installed_plugin):
    assert {"halves", "broken"} <= set(registry.available())
    chunker = registry.get("halves", chunk_size=64)
    assert type(chunker).__module__ == PLUGIN_MODULE
    text = "Plugins chunk like built-ins."
    assert [(c.text, c.start, c.end) for c in chunker.chunk(text)] == [
        ("Plugins chunk ", 0, 14),
        ("like built-ins.", 14, 29),
    ]


def test_entry_point_strategy_validates_its_parameters(registry, installed_plugin):
    with pytest.raises(ParameterError, match=r"halves: chunk_size must be an integer >= 1, got 0"):
        registry.get("halves", chunk_size=0)


def test_entry_point_that_is_not_a_strategy_is_a_parameter_error(registry, installed_plugin):
    with pytest.raises(ParameterError, match=r"strategy 'broken' .* is not a subclass of strategies.Strategy"):
        registry.get("broken")
