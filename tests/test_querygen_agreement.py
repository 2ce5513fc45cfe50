"""The agreement line: a verdict on generated queries quotes what the benchmarks measured for its
generator, retriever family and budget, and says where its own setting differs from the one measured."""

import pytest

from chunkopt.querygen import DEFAULT_COUNT, agreement, agreement_line, misleads
from chunkopt.querygen.agreement import (CLOZE, MEASURED_COUNT, MISLED_ADVICE, OTHERS, TOKEN_BUDGETS, TOP_K,
                                         nearest_measured)
from strategies.base import ParameterError

CLOZE_INFO = {"name": "cloze", "version": 3, "seed": 2, "spacy_model": None}
KEYWORDS_INFO = {"name": "keywords", "version": 1, "seed": 0}
LLM_INFO = {"name": "llm", "version": 1, "seed": 0, "model": "m"}
TOP_5, TOKENS_1024 = {"top_k": 5, "token_budget": None}, {"top_k": None, "token_budget": 1024}
BM25 = {"retriever": "bm25", "family": "lexical"}
NEURAL = {"retriever": "neural", "family": "dense"}


def test_the_line_names_the_generator_its_seed_and_quotes_the_figures_measured_for_its_setting():
    line = agreement_line(CLOZE_INFO, **BM25, budget=TOKENS_1024)
    assert line.startswith("Generated queries (cloze v3, seed 2, rule-based answers (no spaCy model)): ")
    assert CLOZE[("lexical", 1024)].sentence() in line and "(measured" not in line


def test_the_sentence_gives_each_data_set_its_tau_and_loss():
    sentence = CLOZE[("lexical", 1024)].sentence()
    assert "Kendall tau 0.62-0.80 by recall on crowd-written SQuAD questions, 0.54-0.64 on Chroma's" in sentence
    assert sentence.endswith("lost up to 0.015, 0.046 and 0.024 recall on the real questions")


def test_the_default_count_is_the_count_the_figures_were_measured_with():
    assert DEFAULT_COUNT == MEASURED_COUNT  # change one, and measure again before changing the other


@pytest.mark.parametrize("family", ["lexical", "dense", "hybrid"])
def test_every_family_was_measured_at_top_5_and_every_token_budget(family):
    assert {point for f, point in CLOZE if f == family} == {TOP_K, *TOKEN_BUDGETS}


@pytest.mark.parametrize("tokens, measured", [(256, 512), (512, 512), (724, 512), (725, 1024), (1024, 1024),
                                              (2047, 1024), (2048, 4096), (3000, 4096), (100_000, 4096)])
def test_a_token_budget_reads_the_figures_of_the_nearest_budget_measured(tokens, measured):
    assert nearest_measured("lexical", {"top_k": None, "token_budget": tokens}) == measured


def test_a_family_measured_at_fewer_budgets_reads_its_nearest(monkeypatch):
    monkeypatch.setattr(agreement, "CLOZE", {key: m for key, m in CLOZE.items() if key != ("hybrid", 4096)})
    assert nearest_measured("hybrid", {"top_k": None, "token_budget": 4096}) == 1024


def test_any_top_k_reads_the_top_5_figures():
    assert nearest_measured("dense", {"top_k": 20, "token_budget": None}) == TOP_K


def test_a_token_budget_other_than_the_one_measured_is_named_beside_it():
    line = agreement_line(CLOZE_INFO, **BM25, budget={"top_k": None, "token_budget": 2048})
    assert CLOZE[("lexical", 4096)].sentence("this sweep's budget is 2,048 tokens") in line
    assert "with bm25 and tfidf retrievers in a 4,096-token context (this sweep's budget is 2,048 tokens) on" in line


def test_a_top_k_other_than_5_is_named_beside_the_top_5_figures():
    line = agreement_line(CLOZE_INFO, **BM25, budget={"top_k": 10, "token_budget": None})
    assert "and a top-5 budget (this sweep's budget is the top 10) on three data sets" in line


def test_lexical_4096_tokens_says_where_the_ranking_is_noise_and_where_the_queries_are_biased():
    line = agreement_line(CLOZE_INFO, **BM25, budget={"top_k": None, "token_budget": 4096})
    assert "near chance on SQuAD and the bundled corpus" in line and "the generated queries did not" in line


def test_a_budget_with_neither_top_k_nor_tokens_is_refused():
    with pytest.raises(ParameterError, match="budget must give top_k or a positive token_budget, got {'top_k': None}"):
        agreement_line(CLOZE_INFO, **BM25, budget={"top_k": None})


def test_a_dense_retriever_in_a_token_budget_quotes_the_dense_figures_and_no_advice():
    line = agreement_line(CLOZE_INFO, **NEURAL, budget=TOKENS_1024)
    assert CLOZE[("dense", 1024)].sentence() in line and MISLED_ADVICE not in line
    assert not misleads(CLOZE_INFO, "dense", TOKENS_1024)


def test_a_dense_retriever_at_top_k_is_told_the_queries_misled_it_and_what_to_do_instead():
    line = agreement_line(CLOZE_INFO, 40, **NEURAL, budget=TOP_5)
    assert CLOZE[("dense", TOP_K)].sentence() in line and "misled: a generated question keeps enough" in line
    assert line.endswith(f"this set has 40, and fewer rank configurations more by chance). {MISLED_ADVICE}.")
    assert misleads(CLOZE_INFO, "dense", TOP_5)


@pytest.mark.parametrize("point", [TOP_K, *TOKEN_BUDGETS])
def test_hybrid_quotes_its_own_figures_and_is_not_told_it_was_misled(point):
    budget = TOP_5 if point == TOP_K else {"top_k": None, "token_budget": point}
    line = agreement_line(CLOZE_INFO, retriever="hybrid", family="hybrid", budget=budget)
    assert CLOZE[("hybrid", point)].sentence() in line and MISLED_ADVICE not in line
    assert not misleads(CLOZE_INFO, "hybrid", budget)


def test_a_retriever_of_no_measured_family_is_told_whose_figures_it_reads():
    line = agreement_line(CLOZE_INFO, retriever="lsa", family=None, budget=TOP_5)
    assert f"not measured with this retriever (lsa); {CLOZE[('lexical', TOP_K)].sentence()}" in line


def test_queries_shared_per_document_are_told_the_figures_were_drawn_by_length():
    line = agreement_line({**CLOZE_INFO, "per_document": True}, **BM25, budget=TOP_5)
    assert "(these figures are for queries drawn by document length; shared per document they were measured only" in line


def test_the_caveats_of_one_line_share_one_parenthesis_after_the_figures():
    line = agreement_line({**CLOZE_INFO, "per_document": True}, 40, **BM25, budget={"top_k": None, "token_budget": 700})
    assert "512-token context (this sweep's budget is 700 tokens) on three data sets" in line
    assert line.endswith("where they did about as well; measured with 1,200 queries, this set has 40, and fewer rank "
                         "configurations more by chance).")


def test_a_cloze_set_smaller_than_the_one_measured_is_told_it_ranks_more_by_chance():
    assert "this set has 40" in agreement_line(CLOZE_INFO, 40, **BM25, budget=TOP_5)
    assert "this set has" not in agreement_line(CLOZE_INFO, MEASURED_COUNT, **BM25, budget=TOP_5)


def test_keywords_at_a_budget_they_were_not_measured_at_are_told_so():
    line = agreement_line(KEYWORDS_INFO, **BM25, budget={"top_k": None, "token_budget": 4096})
    assert line.endswith("(measured at top-5 and in 1,024 tokens only; this sweep's budget is 4,096 tokens).")
    assert "only" not in agreement_line(KEYWORDS_INFO, **BM25, budget=TOKENS_1024).split("tau")[-1]


def test_a_generator_with_no_figures_says_so():
    line = agreement_line({"name": "other", "version": 1, "seed": 0}, **BM25, budget=TOP_5)
    assert line == "Generated queries (other v1, seed 0): their agreement with real questions was not measured for this generator."


def test_keywords_quote_their_own_figures_whatever_the_count_and_name_a_retriever_they_were_not_measured_with():
    assert agreement_line(KEYWORDS_INFO, 40, **BM25, budget=TOP_5).endswith(f": {OTHERS['keywords']}.")
    line = agreement_line(KEYWORDS_INFO, **NEURAL, budget=TOP_5)
    assert f"not measured with this retriever (neural); {OTHERS['keywords']}" in line and MISLED_ADVICE not in line


def test_llm_queries_are_said_to_be_unmeasured_whatever_the_retriever():
    for family in ("lexical", "dense"):
        line = agreement_line(LLM_INFO, retriever="x", family=family, budget=TOP_5)
        assert line.endswith(f": {OTHERS['llm']}.") and not misleads(LLM_INFO, family, TOP_5)
