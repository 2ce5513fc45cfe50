"""The verdict's wording: counts read as sentences, and what it says of generated queries."""

import warnings
import zlib

import numpy as np
import pytest

from chunkopt import retrievers
from chunkopt.corpus import Corpus, Document
from chunkopt.querygen import LEXICAL_RETRIEVERS, MEASURED_AGREEMENT, MEASURED_WITH_EMBEDDINGS, generate_queries
from chunkopt.retrievers.dense import DenseRetriever
from chunkopt.sweep import Sweep
from chunkopt.verdict import configurations_are, sample_phrase


def test_a_count_of_configurations_agrees_with_its_verb():
    assert configurations_are(1) == "1 configuration is"
    assert configurations_are(3) == "3 configurations are"


def test_the_sample_names_its_groups_when_queries_were_resampled_by_group():
    assert sample_phrase(1200, None) == "1,200 queries"
    assert sample_phrase(412, 86) == "412 queries (86 groups, each resampled whole)"


# The agreement line a sweep on generated queries quotes depends on its retriever and budget: with a
# dense retriever the benchmarks measured good agreement in a token budget and a misleading one at top-k.
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


def generated_sweep_verdict(retriever, **budget) -> str:
    corpus = Corpus([Document(name, text) for name, text in TEXTS.items()])
    queries = generate_queries(corpus, n=30, seed=0, spacy_model="")
    sweep = Sweep([{"strategy": "fixed", "chunk_size": [32, 128]}], retriever=retriever, **budget)
    return sweep.fit(corpus, queries).explain()


def test_a_dense_retriever_in_a_token_budget_quotes_the_figures_measured_with_a_dense_retriever():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning before the work, as for top-k
        verdict = generated_sweep_verdict(WordHashRetriever(), token_budget=256)
    assert MEASURED_WITH_EMBEDDINGS["dense"]["token budget"] in verdict and MEASURED_AGREEMENT["cloze"] not in verdict


def test_a_dense_retriever_at_top_k_is_warned_that_generated_queries_misled_there():
    with pytest.warns(UserWarning, match=r"misled dense retrievers at top-k .* \(--token-budget\)"):  # before the work
        verdict = generated_sweep_verdict(WordHashRetriever(), top_k=2)
    assert MEASURED_WITH_EMBEDDINGS["dense"]["top k"] in verdict and "did NOT rank configurations" in verdict
    assert "--token-budget instead of --top-k" in verdict


def test_bm25_and_tfidf_quote_the_figures_measured_with_them():
    for retriever in LEXICAL_RETRIEVERS:
        verdict = generated_sweep_verdict(retriever, top_k=2)
        assert MEASURED_AGREEMENT["cloze"] in verdict and "not measured with this retriever" not in verdict


def test_hybrid_quotes_the_figures_measured_with_hybrid_at_its_budget(monkeypatch):
    monkeypatch.setattr(retrievers, "_registered", {"word-hash": WordHashRetriever})  # hybrid's dense part
    verdict = generated_sweep_verdict("hybrid dense=word-hash", top_k=2)
    assert MEASURED_WITH_EMBEDDINGS["hybrid"]["top k"] in verdict and "not measured with this retriever" not in verdict


def test_another_retriever_is_told_its_figures_were_measured_with_others():
    verdict = generated_sweep_verdict("lsa", top_k=2)
    assert f"not measured with this retriever (lsa); {MEASURED_AGREEMENT['cloze']}" in verdict
