"""Tokenizers resolve offline and map tokens to character offsets without breaking characters."""

import pytest

from strategies.base import ParameterError
from strategies.tokens import get_tokenizer


def test_default_encoding_loads_offline():
    tok = get_tokenizer()
    assert tok.name == "cl100k_base"
    assert tok.encode("hello world") == [15339, 1917]


def test_unknown_encoding_lists_what_is_available():
    with pytest.raises(ParameterError, match=r"encoding 'nope' could not be loaded.*Available offline: cl100k_base"):
        get_tokenizer("nope")


def test_char_boundaries_of_ascii_text_are_token_starts():
    tok = get_tokenizer()
    text = "hello world"
    assert tok.char_boundaries(text, tok.encode(text)).tolist() == [0, 5, 11]


def test_char_boundaries_never_fall_inside_a_character():
    tok = get_tokenizer()
    text = "日本語のテキスト🙂👍🏽 café"
    bounds = tok.char_boundaries(text, tok.encode(text)).tolist()
    assert bounds[0] == 0 and bounds[-1] == len(text)
    assert bounds == sorted(bounds)
    pieces = [text[a:b] for a, b in zip(bounds, bounds[1:])]
    assert "".join(pieces) == text
