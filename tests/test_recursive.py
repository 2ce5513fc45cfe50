"""The `recursive` strategy: strongest separator first, greedy merging, headings and code kept whole."""

import pytest

import strategies
from strategies.base import ParameterError
from strategies.recursive import RecursiveChunker, fenced_blocks, separator_level
from strategies.tokens import get_tokenizer


def texts(chunks):
    return [c.text for c in chunks]


def test_text_within_the_budget_is_one_chunk_without_surrounding_whitespace():
    chunks = RecursiveChunker().chunk("  Hello world.  \n")
    assert [(c.text, c.start, c.end, c.n_tokens) for c in chunks] == [("Hello world.", 2, 14, 3)]


def test_paragraphs_are_cut_at_the_blank_line():
    # 8 + 9 tokens: together (17) over the budget of 12, each alone within it.
    text = "The first paragraph has a few words.\n\nThe second paragraph has a few more words."
    assert texts(RecursiveChunker(chunk_size=12).chunk(text)) == [
        "The first paragraph has a few words.",
        "The second paragraph has a few more words.",
    ]


def test_sentences_merge_up_to_the_budget():
    # Sentences of 4, 4, 4 and 2 tokens; two fit in 8 (the space between costs nothing extra here).
    text = "One short sentence. Two short sentences. Three short sentences. Four."
    chunks = RecursiveChunker(chunk_size=8).chunk(text)
    assert texts(chunks) == ["One short sentence. Two short sentences.", "Three short sentences. Four."]
    assert [c.n_tokens for c in chunks] == [8, 6]


def test_overlap_repeats_whole_trailing_pieces():
    text = "One short sentence. Two short sentences. Three short sentences. Four."
    assert texts(RecursiveChunker(chunk_size=8, overlap=4).chunk(text)) == [
        "One short sentence. Two short sentences.",
        "Two short sentences. Three short sentences.",
        "Three short sentences. Four.",
    ]


def test_each_heading_starts_a_chunk_with_its_section():
    text = "# Alpha\n\nText under alpha.\n\n# Beta\n\nText under beta."
    assert texts(RecursiveChunker(chunk_size=8).chunk(text)) == ["# Alpha\n\nText under alpha.", "# Beta\n\nText under beta."]


def test_a_heading_stays_with_the_start_of_a_long_section():
    text = "# Title\n\nThis paragraph under the title is far too long to share a chunk with it whole."
    assert texts(RecursiveChunker(chunk_size=12).chunk(text)) == [
        "# Title\n\nThis paragraph under the title is far too long",
        "to share a chunk with it whole.",
    ]


def test_a_heading_inside_a_paragraph_starts_the_next_chunk():
    assert texts(RecursiveChunker(chunk_size=6).chunk("Some words before.\n# Real heading\nText.")) == [
        "Some words before.",
        "# Real heading\nText.",
    ]


def test_a_code_block_within_the_budget_is_not_cut():
    # The block has a blank line inside and is 12 tokens: one chunk, although blank lines are cut points.
    text = "Intro line.\n\n```python\ndef f():\n\n    return 1\n```\n\nOutro line."
    assert texts(RecursiveChunker(chunk_size=14).chunk(text)) == [
        "Intro line.",
        "```python\ndef f():\n\n    return 1\n```",
        "Outro line.",
    ]


def test_a_comment_in_code_is_not_a_heading():
    text = "Some words before the code.\n\n```sh\n# comment\necho hi\n```"
    assert texts(RecursiveChunker(chunk_size=10).chunk(text)) == ["Some words before the code.", "```sh\n# comment\necho hi\n```"]


def test_a_code_block_over_the_budget_is_cut_at_its_lines():
    code = "```\n" + "\n".join(f"x{i} = {i}" for i in range(12)) + "\n```"
    chunks = RecursiveChunker(chunk_size=16).chunk(code)
    assert texts(chunks) == [
        "```\nx0 = 0\nx1 = 1", "x2 = 2\nx3 = 3", "x4 = 4\nx5 = 5", "x6 = 6\nx7 = 7", "x8 = 8\nx9 = 9", "x10 = 10\nx11 = 11\n```",
    ]


def test_a_word_over_the_budget_is_cut_into_token_windows():
    chunks = RecursiveChunker(chunk_size=8).chunk("a" * 100)
    assert "".join(texts(chunks)) == "a" * 100
    assert [c.n_tokens for c in chunks] == [8, 5]  # runs of "a" encode 8 characters to a token


def test_cjk_sentence_ends_are_cut_points():
    assert texts(RecursiveChunker(chunk_size=5).chunk("これは文です。これも文です。")) == ["これは文です。", "これも文です。"]


def test_crlf_blank_lines_separate_paragraphs():
    assert texts(RecursiveChunker(chunk_size=3).chunk("Line one.\r\n\r\nLine two.")) == ["Line one.", "Line two."]


def test_custom_separator_keeps_trailing_punctuation_with_the_text_before():
    chunks = RecursiveChunker(chunk_size=2, separators=[". "]).chunk("One. Two. Three.")
    assert texts(chunks) == ["One.", "Two.", "Three."]


def test_custom_separator_starting_with_a_line_break_keeps_its_marker_with_the_text_after():
    chunks = RecursiveChunker(chunk_size=4, separators=["\n- "]).chunk("intro\n- item one\n- item two")
    assert texts(chunks) == ["intro", "- item one", "- item two"]


def test_custom_separator_without_whitespace_cuts_right_after_it():
    assert texts(RecursiveChunker(chunk_size=2, separators=["|"]).chunk("a|b|c")) == ["a|", "b|", "c"]


@pytest.mark.parametrize(
    ("separator", "text", "gaps"),
    [(". ", "a. b", [(2, 3)]), ("\n#", "a\n#b", [(1, 2)]), ("\n\n", "a\n\nb", [(1, 3)]), ("|", "a|b", [(2, 2)])],
)
def test_separator_level_gap_is_only_the_whitespace(separator, text, gaps):
    assert [m.span(m.lastindex) for m in separator_level(separator).finditer(text)] == gaps


def test_fenced_blocks_are_found_from_opening_to_closing_fence():
    text = "a\n```py\ncode\n```\nb\n~~~~\nmore\n~~~~\n```\nunclosed"
    assert [text[s:e] for s, e in fenced_blocks(text)] == ["```py\ncode\n```", "~~~~\nmore\n~~~~"]


def test_empty_and_whitespace_only_texts_have_no_chunks():
    assert RecursiveChunker().chunk("") == []
    assert RecursiveChunker().chunk("\n \t\n") == []


def test_counts_are_the_tokens_of_each_chunk_text():
    text = "Numbers 12345 and 67890, words and more words; punctuation!? Yes.\n\n" * 30
    chunks = RecursiveChunker(chunk_size=32, overlap=8).chunk(text)
    assert all(c.n_tokens == get_tokenizer().count(c.text) <= 32 for c in chunks)


def test_params_store_separators_as_a_list():
    assert RecursiveChunker(separators=("\n\n", " ")).params == {
        "chunk_size": 512, "overlap": 0, "encoding": "cl100k_base", "separators": ["\n\n", " "],
    }


def test_separators_must_be_a_list_of_strings():
    with pytest.raises(ParameterError, match=r"recursive: separators must be a list of strings or null, got '\\n'"):
        RecursiveChunker(separators="\n")


def test_registry_builds_the_recursive_strategy():
    assert isinstance(strategies.get("recursive", chunk_size=64), RecursiveChunker)


def test_an_empty_separator_is_refused_since_token_windows_already_come_last():
    with pytest.raises(ParameterError, match=r'separators must not contain "" \(an empty separator cuts nothing'):
        RecursiveChunker(separators=["\n\n", ""])
