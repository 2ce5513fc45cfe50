"""The verdict's wording: counts read as sentences, and what it says of generated queries."""

import warnings
import zlib

import numpy as np
import pytest

from chunkopt import retrievers
from chunkopt.corpus import Corpus, Document
from chunkopt.querygen import generate_queries
from chunkopt.querygen.agreement import CLOZE, MISLED_ADVICE, TOP_K
from chunkopt.retrievers.dense import DenseRetriever
from chunkopt.sweep import Sweep
from chunkopt.verdict import configurations_are, sample_phrase


def test_a_count_of_configurations_agrees_with_its_verb():
    assert configurations_are(1) == "1 configuration is"
    assert configurations_are(3) == "3 configurations are"


def test_the_sample_names_its_groups_when_queries_were_resampled_by_group():
    assert sample_phrase(1200, None) == "1,200 queries"
    assert sample_phrase(412, 86) == "412 queries (86 groups, each resampled whole)"


# A sweep on generated queries quotes the agreement measured for its retriever's family and its budget
# (chunkopt.querygen.agreement_line, whose every case tests/test_querygen_agreement.py covers), and a dense
# sweep at top-k, where the benchmarks found generated queries misleading, is warned before the work.
# (WordHashRetriever is not all-MiniLM: the line quotes what was measured with the model named in it.)

TEXTS = {
    "harbour.txt": "The stone harbour on the north shore opened in 1887 under Mayor Ellen Hart and her council. "
                   "Fishing boats from three villages still leave it together every morning before dawn. " * 6,
    "mill.txt": "The old paper mill beside the river burned down in the dry summer of 1921. "
                "Its owner at the time, Tomas Reyes, rebuilt it in red brick within a single year. " * 6,
}


class WordHashRetriever(DenseRetriever):
    """An embedding retriever without a model: each word hashed into one of 32 dimensions."""

    name = "word-hash"

    def model_identity(self):
        return "word-hash:32"

    def _encode(self, texts):
        vectors = np.zeros((len(texts), 32), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                vectors[row, zlib.crc32(word.encode()) % 32] += 1
        return vectors


@pytest.fixture
def word_hash(monkeypatch):
    """WordHashRetriever registered as "word-hash", so hybrid can fuse bm25 with it."""
    monkeypatch.setitem(retrievers._registered, "word-hash", WordHashRetriever)


def generated_sweep(retriever, **budget) -> Sweep:
    corpus = Corpus([Document(name, text) for name, text in TEXTS.items()])
    queries = generate_queries(corpus, n=30, seed=0, spacy_model="")
    return Sweep([{"strategy": "fixed", "chunk_size": [32, 128]}], retriever=retriever, **budget).fit(corpus, queries)


@pytest.mark.parametrize("retriever, family", [("bm25", "lexical"), ("tfidf", "lexical"), (WordHashRetriever(), "dense"),
                                               ("hybrid dense=word-hash", "hybrid"), ("hybrid dense=tfidf", None),
                                               ("lsa", None)])
def test_a_retriever_belongs_to_the_family_its_agreement_was_measured_for(word_hash, retriever, family):
    assert Sweep([{"strategy": "fixed", "chunk_size": [32]}], retriever=retriever, top_k=2).retriever_family == family


def test_a_dense_sweep_at_top_k_on_generated_queries_is_warned_before_the_work():
    with pytest.warns(UserWarning, match=r"cloze queries misled a dense retriever at top-k .* \(--token-budget\)"):
        generated_sweep(WordHashRetriever(), top_k=2)


def test_its_verdict_says_they_misled_it_and_what_to_do_instead():
    with pytest.warns(UserWarning, match="misled"):
        verdict = generated_sweep(WordHashRetriever(), top_k=5).explain()
    assert CLOZE[("dense", TOP_K)].sentence() in verdict and MISLED_ADVICE in verdict


@pytest.mark.parametrize("retriever, budget", [(WordHashRetriever(), {"token_budget": 256}), ("bm25", {"top_k": 2}),
                                               ("hybrid dense=word-hash", {"top_k": 2})])
def test_other_sweeps_on_generated_queries_start_without_a_warning(word_hash, retriever, budget):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        generated_sweep(retriever, **budget)


def test_the_verdict_quotes_the_figures_of_the_sweeps_family_and_budget(word_hash):
    assert CLOZE[("dense", 1024)].sentence() in generated_sweep(WordHashRetriever(), token_budget=1024).explain()
    assert CLOZE[("hybrid", TOP_K)].sentence() in generated_sweep("hybrid dense=word-hash", top_k=5).explain()
    assert CLOZE[("lexical", 512)].sentence() in generated_sweep("bm25", token_budget=512).explain()
    assert f"not measured with this retriever (lsa); {CLOZE[('lexical', TOP_K)].sentence()}" in generated_sweep(
        "lsa", top_k=5).explain()
