"""The HTML report: which chunking to use and why, on one self-contained page.

Top to bottom: the recommendation in plain words and how sure it is, the setup it was measured
with, the budget curves and quality-against-cost charts (inline SVG), a compact table with the
full metric table folded away, and the queries the recommendation misses, so a user can see why.
Styles are inline and nothing is fetched, so the page opens offline; every string from the
user's data is escaped.
"""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any, Mapping, Sequence

import chunkopt
from chunkopt.evaluation import CURVE_METRICS, budget_curve
from chunkopt.grid import Configuration
from chunkopt.outputs import write_atomic
from chunkopt.report.svg import PALETTE, Chart
from chunkopt.report.table import fmt
from chunkopt.selection import COST_METRICS, QUALITY_METRICS
from chunkopt.verdict import configurations_are, sample_phrase

MISS_RECALL = 0.5  # a query whose recall is below this counts as missed in the report
MAX_MISSES = 50  # missed queries shown; the count says how many there are
EXCERPT = 600  # characters of a returned chunk shown
TIED_SHOWN = 8  # tied configurations listed openly; more are folded away
RECOMMENDED = "#ffd700"  # the recommendation's star, on every chart

METRIC_HELP = {
    "recall": "share of the answer (reference) text that is inside the returned context",
    "precision": "share of the returned text that is answer text",
    "iou": "answer text returned / (returned text + answer text missed): high when the context is the answer and little else",
    "precision_omega": "the IoU if exactly the chunks touching an answer were returned: how well the chunking can isolate answers",
    "hit_rate": "share of queries with at least one returned chunk touching an answer",
    "mrr": "mean of 1 / rank of the first returned chunk touching an answer",
    "recall_tokens": "recall counted in tokens instead of characters",
    "precision_tokens": "precision counted in tokens",
    "iou_tokens": "IoU counted in tokens",
    "chunk_seconds": "seconds to chunk every document",
    "index_seconds": "seconds to build the retriever's index",
    "query_ms_p50": "median latency of one query, milliseconds",
    "query_ms_p95": "95th-percentile latency of one query, milliseconds",
    "n_chunks": "chunks in the index",
    "index_bytes": "size of the vectors searched, bytes",
    "tokens_per_query": "mean tokens of context returned per query: what every query pays",
}


def sweep_setup(sweep: Any, corpus: Any, queries: Sequence[Any], queries_source: str) -> dict[str, str]:
    """What the sweep was measured on, as the report's setup box shows it."""
    size = sum(len(d.text.encode("utf-8")) for d in corpus)
    budget = sweep.budget
    context = f"top {budget['top_k']} chunks" if budget["top_k"] else f"{budget['token_budget']:,} tokens per query"
    points = ", ".join(f"{b:,}" for b in sweep.budgets)
    return {
        "documents": f"{len(corpus)} ({size / 1000:,.1f} KB)",
        "queries": f"{len(queries)}, {queries_source}",
        "retriever": sweep.retriever_label,
        "context budget": context,
        "budget curve": (f"k = {points}" if budget["top_k"] else f"{points} tokens"),
        "objective": sweep.objective,
        "statistics": (
            f"95% percentile-bootstrap intervals over {sample_phrase(sweep.n_queries_, sweep.decision_.groups)}; "
            "one-sided paired sign-flip tests against the top scorer, "
            f"Holm-corrected, alpha {sweep.alpha:g}; {sweep.resamples:,} resamples, seed {sweep.seed}"
        ),
        "configurations": str(len(sweep.results_)),
        "chunkopt": chunkopt.__version__,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def write_html(
    sweep: Any,
    setup: Mapping[str, str],
    title: str,
    path: str | Path,
    *,
    recommended: Any = None,
    corpus: Any = None,
    queries: Sequence[Any] | None = None,
) -> None:
    """Write the report of a fitted Sweep. `recommended` (the recommendation's `Result`), with the
    corpus and queries, adds the queries it misses."""
    rows, objective = sweep.results_, sweep.objective
    verdict = sweep.explain().splitlines()
    sections = [
        f"<section class='verdict'><h2>Recommendation</h2><p class='lead'>{escape(verdict[0])}</p>"
        + "".join(f"<p>{escape(line.strip())}</p>" for line in verdict[1:])
        + "</section>",
        _setup(setup),
    ]
    if sweep.best_row_ is not None:
        sections.append(_tied(sweep))
    sections.append(_charts(sweep))
    sections.append(_compact_table(rows, objective))
    sections.append(_full_table(rows, objective))
    if recommended is not None and corpus is not None and queries is not None:
        sections.append(_misses(recommended, corpus, queries))
    page = _PAGE.format(title=escape(title), body="\n".join(sections))
    write_atomic(path, page)


def _setup(setup: Mapping[str, str]) -> str:
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in setup.items())
    return f"<section class='setup'><h2>Setup</h2><dl>{items}</dl></section>"


def _tied(sweep: Any) -> str:
    objective = sweep.objective
    items = "".join(
        f"<li>{escape(r['label'])}: {fmt(objective, r[objective])} "
        f"(95% CI {fmt(objective, r['ci_low'])}&ndash;{fmt(objective, r['ci_high'])}), "
        f"{fmt('tokens_per_query', r['tokens_per_query'])} tokens per query, {fmt('n_chunks', r['n_chunks'])} chunks"
        + (" <strong>recommended</strong>" if r["recommended"] else "")
        + (" (top scorer)" if r is sweep.top_row_ else "")
        + "</li>"
        for r in sweep.tied_
    )
    listing = f"<ul>{items}</ul>"
    if len(sweep.tied_) > TIED_SHOWN:
        listing = f"<details><summary>the {len(sweep.tied_)} tied configurations</summary>{listing}</details>"
    if sweep.decision_.rule == "top scorer":
        choice = ("the queries were generated, and a tie on them is not a tie on your users' questions, so the top "
                  "scorer is recommended" + (", or the baseline when it scores exactly as high"
                                             if sweep.best_row_ is not sweep.top_row_ else ""))
    elif sweep.best_row_["baseline"]:
        choice = "the baseline is among them, so it is kept"
    elif sweep.baseline_row_ is not None:
        choice = "the cheapest of them that beats the baseline is recommended"
    else:
        choice = "the cheapest of them is recommended"
    return (
        f"<section><h2>Tied with the best</h2><p>{configurations_are(len(sweep.tied_))} not significantly worse "
        f"than the top scorer on these queries; {choice}. More queries narrow the intervals and shrink this "
        f"set.</p>{listing}</section>"
    )


def _colours(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    names = sorted({r["strategy"] for r in rows})
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}


def _charts(sweep: Any) -> str:
    rows, objective = sweep.results_, sweep.objective
    colour = _colours(rows)
    figures = [_budget_chart(sweep, colour)]
    for x_name, x_label, log2 in (
        ("tokens_per_query", "tokens returned per query", False),
        ("n_chunks", "chunks in the index (log2 axis)", True),
        ("size", "chunk size, tokens (log2 axis)", True),
    ):
        chart = Chart(x_label, objective, x_log2=log2)
        names = sorted(colour)
        for r in rows:
            x = _size(r) if x_name == "size" else float(r[x_name])
            if x_name == "size":  # strategies share the sizes: set them slightly apart so each stays visible
                x *= 2 ** ((names.index(r["strategy"]) - (len(names) - 1) / 2) * 0.06)
            tip = f"{r['label']}: {objective} {r[objective]:.4f} (95% CI {r['ci_low']:.4f}-{r['ci_high']:.4f})"
            chart.point(x, r[objective], RECOMMENDED if r["recommended"] else colour[r["strategy"]],
                        low=r["ci_low"], high=r["ci_high"], shape="star" if r["recommended"] else "circle",
                        ring=r["pareto"] and not r["recommended"], title=tip)
        for name, c in colour.items():
            chart.legend(name, c)
        chart.legend("recommended", RECOMMENDED, "star")
        figures.append(
            f"<figure>{chart.svg()}<figcaption>{escape(objective)} against {escape(x_label)}: bars are 95% intervals, "
            "ringed points are on the Pareto front, the star is the recommendation.</figcaption></figure>"
        )
    return "<section><h2>Charts</h2>" + "\n".join(figures) + "</section>"


def _budget_chart(sweep: Any, colour: Mapping[str, str]) -> str:
    """Quality against context actually paid, one line per configuration over the budget curve."""
    metric = sweep.objective if sweep.objective in CURVE_METRICS else "recall"
    rows = sweep.results_
    best_of = {}
    for r in rows:  # results are ranked, so the first of each strategy is its best
        best_of.setdefault(r["strategy"], r["label"])
    chart = Chart("context tokens per query", metric)
    for r in rows:
        curve = [p for p in budget_curve(r) if metric in p and "tokens_per_query" in p]
        xs = [p["tokens_per_query"] for p in curve]
        ys = [p[metric] for p in curve]
        emphasised = best_of[r["strategy"]] == r["label"]
        chart.line(xs, ys, colour[r["strategy"]] if emphasised else "#cccccc", 2.5 if emphasised else 1.0, r["label"])
    for name, label in best_of.items():
        chart.legend(f"best {name}: {label.removeprefix(name + ' ')}", colour[name])
    best = sweep.best_row_
    if best is not None:
        chart.point(best["tokens_per_query"], best[metric], RECOMMENDED, shape="star", title=f"recommended: {best['label']}")
        chart.legend("recommended", RECOMMENDED, "star")
    unit = "k" if sweep.top_k else "token budget"
    return (
        f"<figure>{chart.svg()}<figcaption>Budget curves: {escape(metric)} at each {unit} of "
        f"{escape(', '.join(str(b) for b in sweep.budgets))}, against the tokens actually returned. The best "
        "configuration of each strategy is drawn in colour, the others in grey; where lines cross, the better "
        "strategy changes with the budget.</figcaption></figure>"
    )


def _size(row: Mapping[str, Any]) -> float:
    """The most tokens a chunk of the row's configuration may hold (its strategy's size parameter)."""
    return Configuration(row["strategy"], row["params"]).size


def _compact_table(rows: Sequence[Mapping[str, Any]], objective: str) -> str:
    truncated = any("truncated_share" in r for r in rows)  # a dense retriever: how much it reads of each chunk
    approximate = any("recall_lost" in r for r in rows)  # an HNSW index: what it missed against exact search
    head = "".join(f"<th>{h}</th>" for h in ("#", "configuration", escape(objective), "95% CI", "tied", "tokens/query",
                                              "chunks", "ms p50", *(["chunks truncated"] if truncated else []),
                                              *(["recall lost to HNSW"] if approximate else [])))
    body = "\n".join(
        f"<tr class='{_row_class(r)}'><td>{r['rank']}</td><td>{escape(r['label'])}"
        + (" <strong>(recommended)</strong>" if r["recommended"] else "")
        + (" (baseline)" if r["baseline"] else "")
        + f"</td><td>{fmt(objective, r[objective])}</td><td>{fmt(objective, r['ci_low'])}&ndash;{fmt(objective, r['ci_high'])}</td>"
        f"<td>{'yes' if r['tied_with_best'] else ''}</td><td>{fmt('tokens_per_query', r['tokens_per_query'])}</td>"
        f"<td>{fmt('n_chunks', r['n_chunks'])}</td><td>{fmt('query_ms_p50', r['query_ms_p50'])}</td>"
        + (f"<td>{_truncated(r)}</td>" if truncated else "")
        + (f"<td>{_approximation(r)}</td>" if approximate else "")
        + "</tr>"
        for r in rows
    )
    return (f"<section><h2>Configurations, ranked by {escape(objective)}</h2>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>")


def _truncated(row: Mapping[str, Any]) -> str:
    if "truncated_share" not in row:
        return ""
    return f"{row['truncated_share']:.0%} (over {row['max_seq_length']} word pieces)"


def _approximation(row: Mapping[str, Any]) -> str:
    if "recall_lost" not in row:
        return ""
    return f"{row['recall_lost'] * 100:.2f} points ({row['neighbours_found']:.1%} of exact neighbours found)"


def _row_class(row: Mapping[str, Any]) -> str:
    return " ".join(c for c, on in (("recommended", row["recommended"]), ("infeasible", not row["feasible"]),
                                    ("pareto", row["pareto"])) if on)


def _full_table(rows: Sequence[Mapping[str, Any]], objective: str) -> str:
    columns = [objective, *[m for m in QUALITY_METRICS if m != objective], *COST_METRICS]
    head = "".join(f"<th>{escape(c)}</th>" for c in ("#", "configuration", *columns, "pareto"))
    body = "\n".join(
        f"<tr class='{_row_class(r)}'><td>{r['rank']}</td><td>{escape(r['label'])}</td>"
        + "".join(f"<td>{escape(fmt(c, r[c]))}</td>" for c in columns)
        + f"<td>{'&#9733;' if r['pareto'] else ''}</td></tr>"
        for r in rows
    )
    glossary = "".join(f"<dt>{escape(c)}</dt><dd>{escape(METRIC_HELP[c])}</dd>" for c in columns if c in METRIC_HELP)
    return (
        "<details><summary>Every metric and cost</summary>"
        "<p>Grey rows break a constraint; starred rows are on the Pareto front (no other configuration is at least "
        "as good on the objective and on both tokens per query and chunks).</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<dl class='glossary'>{glossary}</dl></details>"
    )


def _misses(result: Any, corpus: Any, queries: Sequence[Any]) -> str:
    by_id = {q.id: q for q in queries}
    missed = [row for row in result.per_query if row["recall"] < MISS_RECALL]
    items = []
    for row in missed[:MAX_MISSES]:
        query = by_id[row["query_id"]]
        references = "".join(
            f"<blockquote>{escape(corpus[r.doc].text[r.start:r.end])}<cite>{escape(r.doc)} [{r.start}, {r.end})</cite></blockquote>"
            for r in query.references
        )
        returned = "".join(
            f"<li><cite>{escape(doc)} [{start}, {end})</cite> {escape(_excerpt(corpus[doc].text[start:end]))}</li>"
            for doc, start, end in row["chunks"]
        ) or "<li>nothing: no chunk fitted the budget</li>"
        items.append(
            f"<details><summary>{escape(query.query)} <span class='recall'>(recall {row['recall']:.2f})</span></summary>"
            f"<h4>Answer text</h4>{references}<h4>Returned, in rank order</h4><ol>{returned}</ol></details>"
        )
    more = f" The first {MAX_MISSES} are shown." if len(missed) > MAX_MISSES else ""
    return (
        f"<section><h2>Queries the recommendation misses</h2><p>{len(missed)} of {len(result.per_query)} queries get "
        f"less than {MISS_RECALL:.0%} of their answer text into the context.{more}</p>{''.join(items)}</section>"
    )


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[:EXCERPT] + " …"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1200px; }}
section.verdict {{ border-left: 4px solid #1f77b4; background: #f3f8ff; padding: 0.5rem 1rem; }}
p.lead {{ font-size: 1.15rem; font-weight: 600; }}
dl {{ display: grid; grid-template-columns: max-content auto; gap: 2px 12px; font-size: 14px; }}
dt {{ font-weight: 600; }} dd {{ margin: 0; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 3px 6px; text-align: right; }}
td:nth-child(2) {{ text-align: left; white-space: nowrap; }}
tr.recommended td {{ background: #fff7cc; font-weight: 600; }}
tr.infeasible td {{ color: #999; }}
figure {{ display: inline-block; margin: 0 1rem 1rem 0; vertical-align: top; max-width: 720px; }}
figcaption {{ font-size: 12px; color: #555; }}
blockquote {{ margin: 0.3rem 0 0.3rem 1rem; padding-left: 0.5rem; border-left: 3px solid #2ca02c; white-space: pre-wrap; }}
cite {{ display: block; font-size: 11px; color: #777; }}
details {{ margin: 0.4rem 0; }}
</style></head>
<body>
<h1>{title}</h1>
{body}
</body></html>
"""
