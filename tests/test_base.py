"""The parameter schema and the Chunk record that every strategy shares."""

from types import MappingProxyType

import pytest

from strategies.base import Chunk, Param, ParameterError, Span, Strategy, check_overlap


class Halves(Strategy):
    """A toy strategy: cuts the text in two halves (counts characters as tokens)."""

    name = "halves"
    schema = (
        Param("chunk_size", int, 512, "tokens per chunk", minimum=1),
        Param("overlap", int, 0, "tokens shared by neighbours", minimum=0),
        Param("mode", str, "even", "how to cut", choices=("even", "odd")),
        Param("ratio", float, 0.5, "where to cut", minimum=0.0, maximum=1.0),
        Param("labels", tuple, (), "names"),
        Param("model", str, None, "optional model", nullable=True),
    )

    def check(self, params):
        check_overlap(self, params)

    def split(self, text):
        mid = int(len(text) * self.ratio)
        return [Span(0, mid, mid), Span(mid, len(text), len(text) - mid)]


def test_defaults_fill_missing_parameters():
    assert Halves().params == {"chunk_size": 512, "overlap": 0, "mode": "even", "ratio": 0.5, "labels": [], "model": None}


def test_params_are_attributes():
    assert Halves(chunk_size=7).chunk_size == 7


def test_integral_float_is_accepted_as_integer():
    assert Halves(chunk_size=256.0).params["chunk_size"] == 256


def test_integer_is_accepted_as_float():
    assert Halves(ratio=1).params["ratio"] == 1.0


def test_tuple_parameter_comes_back_as_list():
    assert Halves(labels=("a", "b")).params["labels"] == ["a", "b"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"chunk_size": 0}, "halves: chunk_size must be an integer >= 1, got 0"),
        ({"chunk_size": -3}, "chunk_size must be an integer >= 1, got -3"),
        ({"chunk_size": "512"}, "chunk_size must be an integer >= 1, got '512'"),
        ({"chunk_size": True}, "chunk_size must be an integer >= 1, got True"),
        ({"ratio": 1.5}, "ratio must be a number from 0 to 1, got 1.5"),
        ({"ratio": float("nan")}, "ratio must be a number from 0 to 1, got nan"),
        ({"mode": "both"}, "mode must be one of 'even', 'odd', got 'both'"),
        ({"labels": "ab"}, "labels must be a list of strings, got 'ab'"),
        ({"model": 3}, "model must be a string or null, got 3"),
        ({"overlap": 512}, "overlap must be smaller than chunk_size (512), got 512"),
        ({"size": 5}, "unknown parameter 'size'; valid parameters are chunk_size, overlap"),
    ],
)
def test_bad_parameter_names_it_the_value_and_what_is_valid(params, message):
    with pytest.raises(ParameterError, match=None) as err:
        Halves(**params)
    assert message in str(err.value)


def test_chunks_are_sliced_from_the_source_text():
    chunks = Halves().chunk("abcdef", doc_id="d")
    assert [(c.text, c.start, c.end, c.index, c.doc_id) for c in chunks] == [
        ("abc", 0, 3, 0, "d"),
        ("def", 3, 6, 1, "d"),
    ]


def test_chunk_is_immutable():
    chunk = Chunk("a", 0, 1, 1)
    with pytest.raises(AttributeError):
        chunk.start = 2  # type: ignore[misc]


def test_chunk_to_dict_has_the_export_fields():
    chunk = Chunk("ab", 3, 5, 1, index=2, doc_id="x.md", id="i", doc_hash="h", config="c",
                  metadata=MappingProxyType({"headings": ["A"]}))
    assert chunk.to_dict() == {
        "id": "i", "doc_id": "x.md", "doc_hash": "h", "config": "c", "index": 2, "start": 3, "end": 5,
        "n_tokens": 1, "text": "ab", "metadata": {"headings": ["A"]},
    }


def test_equal_parameters_make_equal_chunkers():
    assert Halves(chunk_size=9) == Halves(chunk_size=9.0)
    assert Halves(chunk_size=9) != Halves(chunk_size=10)


def test_builtin_classes_import_from_the_package():
    import strategies
    from strategies import FixedChunker, RecursiveChunker, SemanticChunker, SentenceChunker

    for cls in (FixedChunker, RecursiveChunker, SentenceChunker, SemanticChunker):
        assert strategies.strategy_class(cls.name) is cls
