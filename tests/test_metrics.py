"""Span metrics against values computed by hand, and invariants that hold for every input."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chunkopt.metrics import (
    hit_rate,
    iou,
    mrr,
    precision,
    precision_omega,
    recall,
    span_scores,
    token_ranges,
    token_scores,
    token_span,
)
from strategies.tokens import get_tokenizer


def test_two_chunks_splitting_one_reference():
    # reference [10,20); chunks [0,15) and [15,30) cover 5 + 5 = 10 reference characters
    chunks, refs = [("a", 0, 15), ("a", 15, 30)], [("a", 10, 20)]
    assert recall(chunks, refs) == 10 / 10
    assert precision(chunks, refs) == pytest.approx(10 / (15 + 15))
    assert iou(chunks, refs) == pytest.approx(10 / (15 + 15 + 0))


def test_reference_partly_missed_adds_its_uncovered_characters_to_the_iou_denominator():
    # reference [10,30); chunk [0,20) covers [10,20) = 10; 10 reference characters missed
    chunks, refs = [("a", 0, 20)], [("a", 10, 30)]
    assert recall(chunks, refs) == pytest.approx(10 / 20)
    assert precision(chunks, refs) == pytest.approx(10 / 20)
    assert iou(chunks, refs) == pytest.approx(10 / (20 + 10))


def test_overlapping_chunks_count_their_shared_characters_twice_in_precision():
    # chunks [0,20) and [10,30) share [10,20); reference [5,25) is covered entirely: 20 characters
    chunks, refs = [("a", 0, 20), ("a", 10, 30)], [("a", 5, 25)]
    assert recall(chunks, refs) == 1.0
    assert precision(chunks, refs) == pytest.approx(20 / (20 + 20))  # not 20/30 (the union)
    assert iou(chunks, refs) == pytest.approx(20 / (40 + 0))


def test_two_references_one_covered_one_missed():
    # references [0,10) and [50,60); chunk [0,30) covers the first (10), misses the second (10)
    chunks, refs = [("a", 0, 30)], [("a", 0, 10), ("a", 50, 60)]
    assert recall(chunks, refs) == pytest.approx(10 / 20)
    assert precision(chunks, refs) == pytest.approx(10 / 30)
    assert iou(chunks, refs) == pytest.approx(10 / (30 + 10))


def test_ranges_in_different_documents_never_intersect():
    # chunk b:[0,100) has the same offsets as reference a:[0,10) but another document
    chunks, refs = [("b", 0, 100), ("a", 0, 5)], [("a", 0, 10)]
    scores = span_scores(chunks, refs)
    assert scores.recall == pytest.approx(5 / 10)
    assert scores.precision == pytest.approx(5 / (100 + 5))  # the other document's chunk still costs
    assert scores.iou == pytest.approx(5 / (105 + 5))


def test_references_in_two_documents():
    # a:[0,10) fully covered by a:[0,10); b:[0,10) half covered by b:[5,20)
    chunks, refs = [("a", 0, 10), ("b", 5, 20)], [("a", 0, 10), ("b", 0, 10)]
    scores = span_scores(chunks, refs)
    assert scores.recall == pytest.approx((10 + 5) / 20)
    assert scores.precision == pytest.approx(15 / (10 + 15))
    assert scores.iou == pytest.approx(15 / (25 + 5))


def test_nothing_returned_scores_zero():
    assert span_scores([], [("a", 0, 10)]) == span_scores([("a", 20, 30)], [("a", 0, 10)])
    assert span_scores([], [("a", 0, 10)]).precision == 0.0


def test_empty_references_are_an_error():
    with pytest.raises(ValueError, match="references must cover at least one character"):
        recall([("a", 0, 5)], [("a", 3, 3)])


def test_range_with_start_after_end_is_an_error():
    with pytest.raises(ValueError, match=r"retrieved range \('a', 9, 2\)"):
        recall([("a", 9, 2)], [("a", 0, 5)])


def test_precision_omega_uses_the_union_of_chunks_that_overlap_a_reference():
    # chunking [0,20) [10,30) [30,50) [50,70); reference [15,35)
    # overlapping chunks: all but [50,70); their union [0,50) = 50 characters; reference inside it
    chunks = [("a", 0, 20), ("a", 10, 30), ("a", 30, 50), ("a", 50, 70)]
    assert precision_omega(chunks, [("a", 15, 35)]) == pytest.approx(20 / 50)


def test_precision_omega_ignores_chunks_that_only_touch_a_reference():
    # chunk [0,10) ends where the reference [10,20) starts: they share no character
    # (Chroma would count it: 10/20; see the module docstring)
    chunks = [("a", 0, 10), ("a", 10, 20), ("a", 20, 30)]
    assert precision_omega(chunks, [("a", 10, 20)]) == 1.0


def test_precision_omega_counts_reference_text_no_chunk_holds():
    # chunks skip [10,15) (say, dropped whitespace); reference [5,15): union = [0,10) + [10,15) = 15
    chunks = [("a", 0, 10), ("a", 15, 25)]
    assert precision_omega(chunks, [("a", 5, 15)]) == pytest.approx(5 / 15)


def test_precision_omega_ignores_chunks_of_other_documents():
    chunks = [("b", 0, 100), ("a", 0, 10), ("a", 10, 40)]
    # reference a:[0,10) is exactly chunk a:[0,10)
    assert precision_omega(chunks, [("a", 0, 10)]) == 1.0


def test_hit_rate_and_mrr_use_the_first_overlapping_chunk():
    refs = [("a", 10, 20)]
    ranked = [("a", 0, 10), ("b", 10, 20), ("a", 19, 40)]  # touches, other document, overlaps
    assert hit_rate(ranked, refs) == 1.0
    assert mrr(ranked, refs) == pytest.approx(1 / 3)
    assert hit_rate(ranked[:2], refs) == 0.0
    assert mrr(ranked[:2], refs) == 0.0


def test_token_span_covers_tokens_sharing_a_character():
    # tokens [0,5) [5,11) [11,17): "hello world again"
    bounds = [0, 5, 11, 17]
    assert token_span(bounds, 0, 5) == (0, 1)
    assert token_span(bounds, 4, 6) == (0, 2)  # cuts two tokens: both count
    assert token_span(bounds, 5, 17) == (1, 3)
    assert token_span(bounds, 6, 7) == (1, 2)  # inside one token
    assert token_span(bounds, 5, 5) == (1, 1)  # empty


def test_token_metrics_count_tokens_of_the_source_document():
    tok = get_tokenizer("cl100k_base")
    text = "hello world again"  # tokens "hello" " world" " again": starts 0, 5, 11
    bounds = {"a": tok.char_boundaries(text, tok.encode(text))}
    assert list(bounds["a"]) == [0, 5, 11, 17]
    # reference " world" = token 1; chunk "hello wo" [0,8) covers tokens 0-1: 1 of 2 tokens relevant
    assert token_ranges([("a", 5, 11), ("a", 0, 8)], bounds) == [("a", 1, 2), ("a", 0, 2)]
    scores = token_scores([("a", 0, 8)], [("a", 5, 11)], bounds)
    assert (scores.recall, scores.precision, scores.iou) == (1.0, 0.5, 0.5)


ranges = st.tuples(st.sampled_from("ab"), st.integers(0, 60), st.integers(1, 40)).map(
    lambda t: (t[0], t[1], t[1] + t[2])
)


@settings(max_examples=100, deadline=None)
@given(retrieved=st.lists(ranges, max_size=6), references=st.lists(ranges, min_size=1, max_size=3))
def test_scores_lie_between_zero_and_one_and_iou_is_the_smallest(retrieved, references):
    s = span_scores(retrieved, references)
    for value in (s.recall, s.precision, s.iou, precision_omega(retrieved, references)):
        assert 0.0 <= value <= 1.0
    assert s.iou <= min(s.recall, s.precision) + 1e-12


@settings(max_examples=100, deadline=None)
@given(references=st.lists(ranges, min_size=1, max_size=3), others=st.lists(ranges, max_size=4))
def test_recall_is_one_when_chunks_cover_every_reference(references, others):
    covering = [(doc, max(0, start - 3), end + 3) for doc, start, end in references]
    assert recall(others + covering, references) == pytest.approx(1.0)
    assert hit_rate(others + covering, references) == 1.0


@settings(max_examples=100, deadline=None)
@given(
    retrieved=st.lists(ranges, max_size=6),
    references=st.lists(ranges, min_size=1, max_size=3),
    extra=ranges,
)
def test_returning_one_more_chunk_never_lowers_recall(retrieved, references, extra):
    assert recall(retrieved + [extra], references) >= recall(retrieved, references)


@settings(max_examples=100, deadline=None)
@given(retrieved=st.lists(ranges, min_size=1, max_size=6), references=st.lists(ranges, min_size=1, max_size=3))
def test_precision_omega_is_the_iou_of_returning_exactly_the_overlapping_chunks(retrieved, references):
    # For a chunking whose chunks do not overlap each other, the sum of chunk lengths is their union.
    chunking = []
    for doc, start, end in sorted(retrieved):
        if not any(d == doc and s < end and start < e for d, s, e in chunking):
            chunking.append((doc, start, end))
    overlapping = [c for c in chunking if any(d == c[0] and s < c[2] and c[1] < e for d, s, e in references)]
    assert precision_omega(chunking, references) == pytest.approx(iou(overlapping, references))


@settings(max_examples=50, deadline=None)
@given(retrieved=st.lists(ranges, max_size=6), references=st.lists(ranges, min_size=1, max_size=3))
def test_token_scores_lie_between_zero_and_one(retrieved, references):
    text = "The quick brown fox jumps over the lazy dog; naïve café, 日本語 text! " * 2
    tok = get_tokenizer("cl100k_base")
    b = tok.char_boundaries(text, tok.encode(text))
    clip = lambda rs: [(d, min(s, len(text) - 1), min(e, len(text))) for d, s, e in rs]  # noqa: E731
    s = token_scores(clip(retrieved), clip(references), {"a": b, "b": b})
    assert 0.0 <= s.iou <= min(s.recall, s.precision) + 1e-12
    assert max(s.recall, s.precision) <= 1.0
