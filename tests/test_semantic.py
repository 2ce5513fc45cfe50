"""The `semantic` strategy: boundaries where the topic changes, and hard token limits."""

import numpy as np
import pytest

import strategies
from strategies import ParameterError, get_tokenizer
from strategies.semantic import breakpoints, window_similarities

COOKING = [
    "Chop the onions and fry them in butter until golden.",
    "Add the garlic to the pan with the onions and butter.",
    "Season the onions with salt and pepper, then stir the pan.",
    "Pour the stock over the onions and simmer the soup gently.",
    "Serve the onion soup hot with bread and grated cheese.",
]
ASTRONOMY = [
    "The telescope revealed distant galaxies beyond the Milky Way.",
    "Astronomers measured the light of the galaxies with the telescope.",
    "The galaxies move away from us as the universe expands.",
    "Stars in distant galaxies form from clouds of gas and dust.",
    "The telescope photographed a supernova in a distant galaxy.",
]
TWO_TOPICS = " ".join(COOKING + ASTRONOMY)  # 117 tokens
COOKING_TEXT = " ".join(COOKING)
ASTRONOMY_TEXT = " ".join(ASTRONOMY)


def texts(chunks):
    return [c.text for c in chunks]


@pytest.mark.parametrize("breakpoint", ["percentile", "stddev", "interquartile", "gradient"])
def test_boundary_falls_between_two_topics(breakpoint):
    chunks = strategies.get("semantic", breakpoint=breakpoint).chunk(TWO_TOPICS)
    assert texts(chunks) == [COOKING_TEXT, ASTRONOMY_TEXT]


@pytest.mark.parametrize("embedder", ["tfidf", "lsa"])
def test_each_offline_embedder_finds_the_topic_change(embedder):
    chunks = strategies.get("semantic", embedder=embedder).chunk(TWO_TOPICS)
    assert texts(chunks) == [COOKING_TEXT, ASTRONOMY_TEXT]


def test_neural_embedder_finds_the_topic_change():
    pytest.importorskip("sentence_transformers")
    chunks = strategies.get("semantic", embedder="neural").chunk(TWO_TOPICS)
    assert texts(chunks) == [COOKING_TEXT, ASTRONOMY_TEXT]


def test_whole_text_is_one_chunk_when_no_gap_stands_out():
    # At the 100th percentile no distance lies above the threshold.
    assert texts(strategies.get("semantic", amount=100).chunk(TWO_TOPICS)) == [TWO_TOPICS]


def test_oversized_group_is_split_at_its_least_similar_gap():
    chunks = strategies.get("semantic", amount=100, max_tokens=100).chunk(TWO_TOPICS)
    assert texts(chunks) == [COOKING_TEXT, ASTRONOMY_TEXT]


def test_max_tokens_holds_when_similarity_never_drops():
    text = " ".join(["The cat sat on the mat."] * 200)  # 7 tokens a sentence, 1400 in all
    chunks = strategies.get("semantic", max_tokens=50).chunk(text)
    assert all(c.n_tokens <= 50 for c in chunks)
    assert all(c.text.startswith("The cat") and c.text.endswith("mat.") for c in chunks)
    # Equal distances everywhere: splits go to the middle, so no chunk is left tiny.
    assert min(c.n_tokens for c in chunks) >= 25


def test_single_sentence_over_max_tokens_is_cut_by_the_fixed_strategy():
    long = " ".join(["word"] * 40) + "."
    text = COOKING[0] + " " + long
    start = text.index(long)
    expected = [(start + s.start, start + s.end) for s in strategies.get("fixed", chunk_size=12).split(long)]
    chunks = strategies.get("semantic", max_tokens=12).chunk(text)
    assert texts(chunks)[0] == COOKING[0]
    assert [(c.start, c.end) for c in chunks[1:]] == expected


def test_min_tokens_merges_small_chunks_into_a_neighbour():
    # amount=0 makes nearly every gap a boundary: one sentence (10 to 14 tokens) per chunk.
    loose = strategies.get("semantic", amount=0, window=1).chunk(TWO_TOPICS)
    merged = strategies.get("semantic", amount=0, window=1, min_tokens=20).chunk(TWO_TOPICS)
    assert min(c.n_tokens for c in loose) < 20
    assert all(c.n_tokens >= 20 for c in merged)
    assert "".join(texts(merged)).replace(" ", "") == TWO_TOPICS.replace(" ", "")


def test_min_tokens_merge_never_exceeds_max_tokens():
    # Every sentence is 10 to 14 tokens: no two fit in 20, so nothing can merge.
    chunks = strategies.get("semantic", amount=0, window=1, min_tokens=15, max_tokens=20).chunk(TWO_TOPICS)
    assert texts(chunks) == COOKING + ASTRONOMY


def test_chunk_token_counts_are_exact():
    tokenizer = get_tokenizer("cl100k_base")
    for chunk in strategies.get("semantic", max_tokens=40).chunk(TWO_TOPICS):
        assert chunk.n_tokens == tokenizer.count(chunk.text) <= 40


def test_empty_and_whitespace_text_give_no_chunks():
    chunker = strategies.get("semantic")
    assert chunker.chunk("") == []
    assert chunker.chunk(" \r\n \n\n\t") == []


def test_window_similarity_compares_the_sums_of_adjacent_windows():
    rows = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=np.float32)
    # gap 1 with window 2: rows 0+1 = (2, 0) against rows 2+3 = (0, 2): orthogonal.
    # gap 0: row 0 = (1, 0) against rows 1+2 = (1, 1): cosine 1/sqrt(2).
    assert window_similarities(rows, 2) == pytest.approx([2**-0.5, 0.0, 2**-0.5])


def test_percentile_breakpoint_marks_distances_above_it():
    distances = np.array([0.1, 0.2, 0.9, 0.3, 0.2])
    assert breakpoints(distances, "percentile", 50).tolist() == [False, False, True, True, False]


def test_stddev_breakpoint_marks_distances_above_mean_plus_amount_deviations():
    distances = np.array([0.2, 0.2, 0.8, 0.2, 0.2])  # mean 0.32, std 0.24
    assert breakpoints(distances, "stddev", 1).tolist() == [False, False, True, False, False]
    assert not breakpoints(distances, "stddev", 2.1).any()


def test_interquartile_breakpoint_marks_distances_above_mean_plus_amount_iqr():
    distances = np.array([0.1, 0.2, 0.3, 0.4, 0.5])  # mean 0.3, IQR 0.2
    assert breakpoints(distances, "interquartile", 0.75).tolist() == [False, False, False, False, True]


def test_gradient_breakpoint_marks_sharp_rises_in_distance():
    distances = np.array([0.5, 0.5, 0.6, 0.6, 0.9, 0.9])  # rises 0, 0, .1, 0, .3, 0
    assert breakpoints(distances, "gradient", 80).tolist() == [False, False, False, False, True, False]


def test_params_are_validated_and_reported():
    assert strategies.get("semantic").params == {
        "max_tokens": 512,
        "min_tokens": 0,
        "window": 3,
        "breakpoint": "percentile",
        "amount": None,
        "embedder": "tfidf",
        "model": None,
        "language": "en",
        "spacy_model": None,
        "encoding": "cl100k_base",
    }
    assert strategies.get("semantic", max_tokens=256).budget == 256


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"breakpoint": "median"},
            "breakpoint must be one of 'percentile', 'stddev', 'interquartile', 'gradient', got 'median'",
        ),
        ({"embedder": "word2vec"}, "embedder must be one of 'tfidf', 'lsa', 'neural', got 'word2vec'"),
        ({"amount": -1}, "amount must be a number >= 0 or null, got -1"),
        ({"amount": 101}, "amount must be a percentile from 0 to 100 with breakpoint='percentile', got 101"),
        ({"max_tokens": 0}, "max_tokens must be an integer >= 1, got 0"),
        ({"min_tokens": 600}, "min_tokens must be at most max_tokens (512), got 600"),
        ({"window": 0}, "window must be an integer >= 1, got 0"),
        ({"language": "klingon"}, "language 'klingon'"),
        ({"spacy_model": "no_such_pipeline"}, "spacy_model 'no_such_pipeline'"),
    ],
)
def test_bad_parameter_is_named_in_the_error(params, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        strategies.get("semantic", **params)


def test_stddev_amount_above_100_is_valid():
    assert strategies.get("semantic", breakpoint="stddev", amount=150).amount == 150
