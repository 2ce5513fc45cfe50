"""Showing a sweep: a ranked table for the terminal and a self-contained HTML report.

The HTML page carries its plots as inline SVG and its style inline, so it opens from a file on
an offline machine; every string from the user's data is escaped.
"""

from __future__ import annotations

import csv
import json
from html import escape
from pathlib import Path
from typing import Any, Mapping, Sequence

from rich.table import Table

from chunkopt.outputs import atomic_open, write_atomic
from chunkopt.selection import COST_METRICS, QUALITY_METRICS

TABLE_COLUMNS = ("iou", "recall", "precision", "mrr", "tokens_per_query", "n_chunks", "query_ms_p50")
SHORT_NAMES = {"tokens_per_query": "tokens/q", "n_chunks": "chunks", "query_ms_p50": "ms p50", "precision": "prec."}


def results_table(rows: Sequence[Mapping[str, Any]], objective: str, top: int = 10) -> Table:
    """The best `top` configurations, ranked, with their key metrics (objective first)."""
    columns = [objective] + [c for c in TABLE_COLUMNS if c != objective]
    table = Table(title=f"Top {min(top, len(rows))} of {len(rows)} configurations by {objective}")
    table.add_column("#", justify="right")
    table.add_column("configuration", no_wrap=True)
    for name in columns:
        table.add_column(SHORT_NAMES.get(name, name), justify="right")
    table.add_column("pareto", justify="center")
    for row in rows[:top]:
        style = None if row["feasible"] else "dim"
        cells = [str(row["rank"]), row["label"]] + [_fmt(name, row[name]) for name in columns]
        table.add_row(*cells, "*" if row["pareto"] else "", style=style)
    return table


def _fmt(name: str, value: Any) -> str:
    if name in ("n_chunks", "index_bytes"):
        return f"{int(value):,}"
    if name == "tokens_per_query":
        return f"{value:.0f}"
    if name.endswith("_ms_p50") or name.endswith("_ms_p95"):
        return f"{value:.2f}"
    return f"{value:.4f}"


def write_results(rows: Sequence[Mapping[str, Any]], path: str | Path) -> None:
    """Every configuration's metrics: JSON Lines, or CSV when the name ends in .csv."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        names = ["rank", "strategy", "params", *QUALITY_METRICS, *COST_METRICS, "feasible", "pareto"]
        with atomic_open(path, newline="") as f:
            writer = csv.writer(f)
            writer.writerow(names)
            for row in rows:
                writer.writerow([json.dumps(row[n], sort_keys=True) if n == "params" else row[n] for n in names])
        return
    with atomic_open(path) as f:
        for row in rows:
            f.write(json.dumps({k: v for k, v in row.items() if k != "config_key"}, sort_keys=True) + "\n")


def write_html(rows: Sequence[Mapping[str, Any]], objective: str, title: str, summary: str, path: str | Path) -> None:
    """A one-file report: the verdict, plots of quality against cost and size, the ranked table."""
    plots = [
        _scatter(rows, "tokens_per_query", objective, "tokens returned per query"),
        _scatter(rows, "n_chunks", objective, "chunks in the index"),
        _scatter(rows, "size", objective, "chunk size (tokens)"),
    ]
    columns = [objective, *[m for m in QUALITY_METRICS if m != objective], *COST_METRICS]
    head = "".join(f"<th>{escape(c)}</th>" for c in ("#", "configuration", *columns, "pareto"))
    body = "\n".join(
        f"<tr class='{'' if r['feasible'] else 'infeasible'}{' pareto' if r['pareto'] else ''}'>"
        f"<td>{r['rank']}</td><td>{escape(r['label'])}</td>"
        + "".join(f"<td>{escape(_fmt(c, r[c]))}</td>" for c in columns)
        + f"<td>{'&#9733;' if r['pareto'] else ''}</td></tr>"
        for r in rows
    )
    page = _PAGE.format(
        title=escape(title),
        summary=escape(summary),
        plots="\n".join(plots),
        head=head,
        body=body,
        objective=escape(objective),
    )
    write_atomic(path, page)


def _size(row: Mapping[str, Any]) -> float:
    params = row["params"]
    for name in ("chunk_size", "max_tokens"):
        if name in params:
            return params[name]
    return 0


_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _scatter(rows: Sequence[Mapping[str, Any]], x_name: str, y_name: str, x_label: str) -> str:
    """An SVG scatter plot, one colour per strategy, Pareto-front points ringed."""
    width, height, pad = 460, 300, 48
    xs = [_size(r) if x_name == "size" else float(r[x_name]) for r in rows]
    ys = [float(r[y_name]) for r in rows]
    x_lo, x_hi = min(xs), max(xs)
    # Zoom on the data (differences between configurations are often small), with a margin.
    margin = (max(ys) - min(ys)) * 0.1 or abs(max(ys)) * 0.1 or 0.1
    y_lo, y_hi = min(ys) - margin, max(ys) + margin
    x_span = (x_hi - x_lo) or 1.0
    y_span = y_hi - y_lo

    def px(x: float) -> float:
        return pad + (x - x_lo) / x_span * (width - 2 * pad)

    def py(y: float) -> float:
        return height - pad - (y - y_lo) / y_span * (height - 2 * pad)

    names = sorted({r["strategy"] for r in rows})
    colour = {n: _COLOURS[i % len(_COLOURS)] for i, n in enumerate(names)}
    marks = []
    for r, x, y in zip(rows, xs, ys):
        tip = escape(f"{r['label']}: {y_name}={y:.3f}, {x_label}={x:g}")
        ring = " stroke='#000' stroke-width='2'" if r["pareto"] else ""
        marks.append(f"<circle cx='{px(x):.1f}' cy='{py(y):.1f}' r='5' fill='{colour[r['strategy']]}'{ring}><title>{tip}</title></circle>")
    legend = "".join(
        f"<text x='{width - pad + 4}' y='{pad + 14 * i}' fill='{colour[n]}' font-size='11'>{escape(n)}</text>"
        for i, n in enumerate(names)
    )
    axes = (
        f"<line x1='{pad}' y1='{height - pad}' x2='{width - pad}' y2='{height - pad}' stroke='#444'/>"
        f"<line x1='{pad}' y1='{pad}' x2='{pad}' y2='{height - pad}' stroke='#444'/>"
        f"<text x='{width / 2}' y='{height - 10}' text-anchor='middle' font-size='12'>{escape(x_label)}</text>"
        f"<text x='14' y='{height / 2}' text-anchor='middle' font-size='12' transform='rotate(-90 14 {height / 2})'>{escape(y_name)}</text>"
        f"<text x='{pad}' y='{height - pad + 14}' font-size='10' text-anchor='middle'>{x_lo:.4g}</text>"
        f"<text x='{width - pad}' y='{height - pad + 14}' font-size='10' text-anchor='middle'>{x_hi:.4g}</text>"
        f"<text x='{pad - 4}' y='{py(y_lo)}' font-size='10' text-anchor='end'>{y_lo:.3g}</text>"
        f"<text x='{pad - 4}' y='{py(y_hi) + 4}' font-size='10' text-anchor='end'>{y_hi:.3g}</text>"
    )
    return (
        f"<figure><svg xmlns='http://www.w3.org/2000/svg' width='{width + 60}' height='{height}' role='img'>"
        f"{axes}{''.join(marks)}{legend}</svg><figcaption>{escape(y_name)} against {escape(x_label)}; "
        "ringed points are on the Pareto front</figcaption></figure>"
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 3px 6px; text-align: right; }}
td:nth-child(2) {{ text-align: left; white-space: nowrap; }}
tr.pareto td {{ background: #f3f8ff; }}
tr.infeasible td {{ color: #999; }}
figure {{ display: inline-block; margin: 0 1rem 1rem 0; }}
figcaption {{ font-size: 12px; color: #555; }}
</style></head>
<body>
<h1>{title}</h1>
<p><strong>{summary}</strong></p>
<h2>Quality against cost</h2>
{plots}
<h2>All configurations, ranked by {objective}</h2>
<p>Starred rows are on the Pareto front (no other configuration is at least as good on {objective}
and on both costs, tokens per query and number of chunks); grey rows break a constraint.</p>
<table><thead><tr>{head}</tr></thead><tbody>
{body}
</tbody></table>
</body></html>
"""
