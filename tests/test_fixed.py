"""The `fixed` strategy: token windows with exact offsets, exact counts and whole characters."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies
import strategies.fixed as fixed_module
from strategies.base import ParameterError
from strategies.fixed import FixedChunker, TextTokens, text_tokens, token_windows
from strategies.tokens import get_tokenizer

# cl100k_base encodes each of these words as one token (" two", " three", ...).
EIGHT_WORDS = "one two three four five six seven eight"


def texts(chunks):
    return [c.text for c in chunks]


def test_windows_hold_chunk_size_tokens():
    chunks = FixedChunker(chunk_size=3).chunk(EIGHT_WORDS)
    assert texts(chunks) == ["one two three", " four five six", " seven eight"]
    assert [c.n_tokens for c in chunks] == [3, 3, 2]


def test_overlap_repeats_the_last_tokens():
    chunks = FixedChunker(chunk_size=4, overlap=2).chunk(EIGHT_WORDS)
    assert texts(chunks) == ["one two three four", " three four five six", " five six seven eight"]


def test_offsets_index_the_source_text():
    chunks = FixedChunker(chunk_size=3).chunk(EIGHT_WORDS, doc_id="doc")
    assert [(c.start, c.end, c.index, c.doc_id) for c in chunks] == [
        (0, 13, 0, "doc"), (13, 27, 1, "doc"), (27, 39, 2, "doc"),
    ]


def test_without_overlap_the_chunks_tile_the_text():
    text = "Alpha beta, gamma.\nDelta — epsilon; zeta?\n\nEta theta iota kappa lambda mu."
    assert "".join(texts(FixedChunker(chunk_size=5).chunk(text))) == text


def test_a_character_split_across_tokens_stays_whole():
    # 日 and 本 are one token each; 語 is two tokens (its UTF-8 bytes split 2 + 1).
    chunks = FixedChunker(chunk_size=2).chunk("日本語")
    assert texts(chunks) == ["日本", "語"]
    assert [c.n_tokens for c in chunks] == [2, 2]


def test_a_window_whose_text_encodes_longer_is_shortened():
    # Each 🙂 is two tokens. The second 3-token window starts inside the second emoji, so its
    # text starts at that emoji: "🙂🙂" would be 4 tokens and the window shrinks to one emoji.
    chunks = FixedChunker(chunk_size=3).chunk("🙂🙂🙂")
    assert texts(chunks) == ["🙂", "🙂", "🙂"]
    assert [c.n_tokens for c in chunks] == [2, 2, 2]


def test_a_character_over_the_budget_is_an_error_naming_chunk_size():
    with pytest.raises(ParameterError, match=r"^fixed: chunk_size must be at least 2 tokens for this text.*got 1"):
        FixedChunker(chunk_size=1).chunk("🙂")


def test_whitespace_only_windows_are_left_out():
    # Tokens: "one", "\n\n\n\n", "two"; the middle window holds only line breaks.
    assert texts(FixedChunker(chunk_size=1).chunk("one\n\n\n\ntwo")) == ["one", "two"]


def test_empty_and_whitespace_only_texts_have_no_chunks():
    assert FixedChunker().chunk("") == []
    assert FixedChunker().chunk(" \n\t ") == []


def test_params_are_what_a_tuned_configuration_stores():
    assert FixedChunker(chunk_size=256, overlap=32).params == {"chunk_size": 256, "overlap": 32, "encoding": "cl100k_base"}


def test_registry_builds_the_fixed_strategy():
    assert isinstance(strategies.get("fixed", chunk_size=64), FixedChunker)


def test_overlap_must_be_smaller_than_chunk_size():
    with pytest.raises(ParameterError, match=r"fixed: overlap must be smaller than chunk_size \(8\), got 8"):
        FixedChunker(chunk_size=8, overlap=8)


def test_unknown_encoding_fails_at_construction():
    with pytest.raises(ParameterError, match=r"fixed: encoding 'nope' could not be loaded.*cl100k_base"):
        FixedChunker(encoding="nope")


def test_a_document_is_encoded_once_for_many_configurations():
    text = "A document that a sweep chunks with several configurations. " * 20
    before = text_tokens.cache_info().misses
    for size in (8, 16, 32):
        FixedChunker(chunk_size=size).chunk(text)
    assert text_tokens.cache_info().misses - before == 1


def test_windows_of_a_range_stay_inside_it():
    text = "skip this. " + EIGHT_WORDS + " and this."
    start = len("skip this. ")
    spans = token_windows(text_tokens(text, "cl100k_base"), 3, 0, start, start + len(EIGHT_WORDS))
    assert [text[s.start : s.end] for s in spans] == ["one two three", " four five six", " seven eight"]


# Fragments that stress the clean-boundary shortcut: runs of mixed whitespace, punctuation that
# tiktoken glues to line breaks, multi-byte characters, contractions and digits.
_FRAGMENTS = st.sampled_from(
    ["word", "Tokenization", " ", "  ", "\t", "\n", "\r\n", "\n\n", ".", ".\n", ",", "'s", "'ll", "2024", "12345",
     "日本語", "🙂", "👨‍👩‍👧", "e\u0301", "\u00a0", "\u3000", "\x1c", "--", "?!", "#", "```"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=80).map("".join), st.data())
def test_slice_counts_match_the_tokenizer(text, data):
    tokens = TextTokens(text, "cl100k_base")
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    short, fixed_module._SHORT = fixed_module._SHORT, 0  # take the shortcut even on short slices
    try:
        assert tokens.count(start, end) == get_tokenizer().count(text[start:end])
    finally:
        fixed_module._SHORT = short


@settings(max_examples=100, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=40).map("".join))
def test_token_boundaries_agree_with_the_tokenizer(text):
    tokenizer = get_tokenizer()
    expected = tokenizer.char_boundaries(text, tokenizer.encode(text)).tolist()
    assert TextTokens(text, "cl100k_base").bounds.tolist() == expected
