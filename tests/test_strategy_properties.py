"""Invariants every registered strategy keeps, on any text, and the errors every one raises.

Parametrized over `strategies.available()`, so a strategy registered later (a built-in still
being written, or a third-party plugin) is checked as soon as it imports.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import strategies
from strategies.base import ParameterError, Strategy
from strategies.tokens import get_tokenizer

# Parameter sets per built-in; any other strategy is tried at three sizes of its size parameter.
PARAMS: dict[str, list[dict]] = {
    "fixed": [{"chunk_size": 8}, {"chunk_size": 32, "overlap": 8}, {"chunk_size": 128, "overlap": 0}],
    "recursive": [
        {"chunk_size": 8}, {"chunk_size": 32, "overlap": 8}, {"chunk_size": 128, "overlap": 16},
        {"chunk_size": 16, "overlap": 4, "separators": ["\n\n", ". ", "|"]},
    ],
    "sentence": [{"chunk_size": 8}, {"chunk_size": 32, "overlap": 1}, {"chunk_size": 128}],
    "semantic": [{"max_tokens": 8}, {"max_tokens": 32, "min_tokens": 8}, {"max_tokens": 128}],
}


def strategy_class_or_skip(name: str) -> type[Strategy]:
    try:
        return strategies.strategy_class(name)
    except (ImportError, AttributeError) as err:  # a plugin whose module is not there (yet)
        pytest.skip(f"strategy {name!r} does not import: {type(err).__name__}: {err}")


SIZE = "<size parameter>"  # stands for the strategy's own size parameter, looked up when it imports


def param_sets(name: str) -> list[dict]:
    return PARAMS.get(name) or [{SIZE: size} for size in (8, 32, 128)]


CASES = [pytest.param(name, params, id=f"{name}-{'-'.join(f'{k}={v}' for k, v in params.items())}")
         for name in strategies.available() for params in param_sets(name)]

# Text made of fragments that break naive chunkers: CJK (with and without its own punctuation),
# emoji with skin tones and ZWJ sequences, combining marks, CRLF, tabs, odd whitespace,
# markdown headings and code fences, plus arbitrary characters.
FRAGMENTS = [
    "word", "Sentence one.", " ", "  ", "\t", "\n", "\r\n", "\n\n", "\r\n\r\n", ". ", ", ", "; ", "! ", "? ",
    "日本語の文です。", "中文，句子！", "한국어 문장.", "🙂", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "e\u0301", "n\u0303o", "\u00a0", "\u3000",
    "\u2028", "# Heading\n", "\n## Sub heading\n", "```python\nx = 1  # not a heading\n```\n", "~~~\ncode\n~~~",
    "12345", "don't", "<|endoftext|>", "-" * 30,
]
TEXTS = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), max_size=60).map("".join),
    st.text(max_size=200),
    st.sampled_from(["", " ", "\n\n", "\t \r\n", "\u3000\u00a0"]),
)


def check_invariants(chunker: Strategy, text: str) -> None:
    chunks = chunker.chunk(text, doc_id="doc")
    count = get_tokenizer(chunker.params.get("encoding", "cl100k_base")).count
    covered = [0] * (len(text) + 1)
    for i, c in enumerate(chunks):
        assert text[c.start : c.end] == c.text, f"chunk {i} is not the source slice"
        assert (c.index, c.doc_id) == (i, "doc")
        assert 0 <= c.start < c.end <= len(text), f"chunk {i} is empty or out of range"
        assert c.n_tokens == count(c.text), f"chunk {i}: n_tokens {c.n_tokens} but the text has {count(c.text)}"
        assert c.n_tokens <= chunker.budget, f"chunk {i}: {c.n_tokens} tokens over the budget {chunker.budget}"
        covered[c.start] += 1
        covered[c.end] -= 1
    starts = [c.start for c in chunks]
    assert starts == sorted(starts), "chunks are out of document order"
    depth = 0
    for pos, ch in enumerate(text):
        depth += covered[pos]
        assert depth > 0 or ch.isspace(), f"character {ch!r} at {pos} is in no chunk"
    again = strategies.get(chunker.name, **chunker.params).chunk(text, doc_id="doc")
    assert again == chunks, "the same text and parameters gave different chunks"


@pytest.mark.parametrize(("name", "params"), CASES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS)
def test_chunks_are_exact_ordered_covering_within_budget_and_deterministic(name, params, text):
    size_param = strategy_class_or_skip(name).size_param
    params = {size_param if k == SIZE else k: v for k, v in params.items()}
    check_invariants(strategies.get(name, **params), text)


@pytest.mark.parametrize("name", strategies.available())
@pytest.mark.parametrize("size", [0, -5])
def test_size_zero_or_negative_names_the_parameter_the_value_and_what_is_valid(name, size):
    size_param = strategy_class_or_skip(name).size_param
    with pytest.raises(ParameterError, match=rf"{size_param} must be an integer >= 1, got {size}"):
        strategies.get(name, **{size_param: size})


@pytest.mark.parametrize("name", strategies.available())
def test_size_of_the_wrong_type_is_a_parameter_error(name):
    size_param = strategy_class_or_skip(name).size_param
    with pytest.raises(ParameterError, match=rf"{size_param} must be an integer >= 1, got '512'"):
        strategies.get(name, **{size_param: "512"})


@pytest.mark.parametrize("name", strategies.available())
def test_a_character_costing_more_than_the_size_names_the_size_parameter_and_the_document(name):
    size_param = strategy_class_or_skip(name).size_param
    chunker = strategies.get(name, **{size_param: 1})
    with pytest.raises(ParameterError, match=rf"^{name}: {size_param} must be at least 2 tokens .*'🙂' at offset 0 of 'a.md'.*got 1"):
        chunker.chunk("🙂", doc_id="a.md")


@pytest.mark.parametrize("name", strategies.available())
def test_token_overlap_not_smaller_than_the_size_is_a_parameter_error(name):
    cls = strategy_class_or_skip(name)
    overlap = next((p for p in cls.schema if p.name == "overlap"), None)
    if overlap is None or overlap.unit != "tokens":
        pytest.skip(f"{name} has no overlap measured in tokens")
    with pytest.raises(ParameterError, match=rf"overlap must be smaller than {cls.size_param} \(16\), got 16"):
        strategies.get(name, **{cls.size_param: 16, "overlap": 16})


@pytest.mark.parametrize("name", strategies.available())
def test_unknown_encoding_names_it_and_lists_the_available_ones(name):
    if not any(p.name == "encoding" for p in strategy_class_or_skip(name).schema):
        pytest.skip(f"{name} has no encoding parameter")
    with pytest.raises(ParameterError, match=r"encoding 'no-such-encoding' could not be loaded.*Available offline: .*cl100k_base"):
        strategies.get(name, encoding="no-such-encoding")


@pytest.mark.parametrize("name", strategies.available())
def test_unknown_spacy_model_names_it_and_lists_the_installed_ones(name):
    if not any(p.name == "spacy_model" for p in strategy_class_or_skip(name).schema):
        pytest.skip(f"{name} has no spacy_model parameter")
    with pytest.raises(ParameterError, match=r"spacy_model 'no_such_model' is not an installed spaCy pipeline.*installed: "):
        strategies.get(name, spacy_model="no_such_model")


@pytest.mark.parametrize("name", strategies.available())
def test_unknown_parameter_lists_the_valid_ones(name):
    strategy_class_or_skip(name)
    with pytest.raises(ParameterError, match=r"unknown parameter 'chunk_sise'; valid parameters are"):
        strategies.get(name, chunk_sise=64)


def test_unknown_strategy_lists_the_available_ones():
    with pytest.raises(ParameterError, match=r"unknown strategy 'fixd'; available strategies: .*fixed.*recursive"):
        strategies.get("fixd")
