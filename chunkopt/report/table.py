"""The ranked table for the terminal, narrowed to fit it.

The objective, its confidence interval, the verdict flags, tokens per query and chunks are always
shown; lower-priority columns (other metrics, latency, the Pareto star) are added only while the
table still fits the width, and a long label wraps rather than pushing a number into "…".
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from rich.table import Table

# Shown after the essential columns while they fit, most useful first.
OPTIONAL_COLUMNS = ("recall", "iou", "mrr", "precision", "query_ms_p50")
SHORT_NAMES = {"tokens_per_query": "tokens/q", "n_chunks": "chunks", "query_ms_p50": "ms p50", "precision": "prec."}
_CELL_PADDING = 3  # rich: one space each side and a border
_MIN_LABEL = 18  # a label narrower than this wraps onto too many lines to read


def results_table(rows: Sequence[Mapping[str, Any]], objective: str, top: int = 10, width: int = 140) -> Table:
    """The best `top` configurations, ranked by the objective, in at most `width` columns.

    `note` says `rec` for the recommendation, `tied` for configurations not significantly worse
    than the top scorer, and `base` for the baseline.
    """
    shown = list(rows[:top])
    baseline = [r for r in rows[top:] if r.get("baseline")]
    shown += baseline  # the baseline is always on the table, as the point of comparison
    cells = {
        "#": [str(r["rank"]) for r in shown],
        objective: [fmt(objective, r[objective]) for r in shown],
        "95% CI": [f"{r['ci_low']:.3f}-{r['ci_high']:.3f}" for r in shown],
        "note": [_note(r) for r in shown],
        "tokens_per_query": [fmt("tokens_per_query", r["tokens_per_query"]) for r in shown],
        "n_chunks": [fmt("n_chunks", r["n_chunks"]) for r in shown],
    }
    for name in OPTIONAL_COLUMNS:
        if name != objective:
            cells[name] = [fmt(name, r[name]) for r in shown]
    cells["pareto"] = ["*" if r["pareto"] else "" for r in shown]

    def needed(name: str) -> int:
        return max(len(SHORT_NAMES.get(name, name)), *(len(c) for c in cells[name])) + _CELL_PADDING

    essential = ["#", objective, "95% CI", "note", "tokens_per_query", "n_chunks"]
    labels = [r["label"] for r in shown]
    label_width = max(len("configuration"), *(len(label) for label in labels))
    used = 1 + sum(needed(n) for n in essential)
    label_width = max(_MIN_LABEL, min(label_width, width - used - _CELL_PADDING))
    used += label_width + _CELL_PADDING
    columns = list(essential)
    for name in [n for n in cells if n not in essential]:
        if used + needed(name) <= width:
            columns.append(name)
            used += needed(name)

    table = Table(title=f"Top {min(top, len(rows))} of {len(rows)} configurations by {objective}")
    for name in columns[:1]:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("configuration", overflow="fold", max_width=label_width)
    for name in columns[1:]:
        table.add_column(SHORT_NAMES.get(name, name), justify="left" if name == "note" else "right", no_wrap=True)
    for i, row in enumerate(shown):
        style = "bold" if row.get("recommended") else (None if row["feasible"] else "dim")
        table.add_row(cells["#"][i], labels[i], *(cells[n][i] for n in columns[1:]), style=style)
    return table


def _note(row: Mapping[str, Any]) -> str:
    flags = []
    if row.get("recommended"):
        flags.append("rec")
    elif row.get("tied_with_best"):
        flags.append("tied")
    if row.get("baseline"):
        flags.append("base")
    return ",".join(flags)


def fmt(name: str, value: Any) -> str:
    """A metric or cost as the tables show it."""
    if value is None:
        return ""
    if name in ("n_chunks", "index_bytes"):
        return f"{int(value):,}"
    if name.startswith("tokens_per_query"):
        return f"{value:.0f}"
    if "_ms_" in name or name.endswith("_seconds"):
        return f"{value:.2f}"
    return f"{value:.4f}"
