"""Every configuration's results as a file: JSON Lines, or CSV for a spreadsheet."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from chunkopt.outputs import atomic_open

_LEFT_OUT = ("config_key",)  # internal: the journal's key, not a result
_FIRST = ("rank", "label", "strategy", "params")  # CSV columns a reader looks for first


def write_results(rows: Sequence[Mapping[str, Any]], path: str | Path) -> None:
    """One row per configuration with every metric, cost, budget-curve point and verdict flag.

    CSV when the name ends in .csv (params and violations as JSON text), JSON Lines otherwise.
    """
    path = Path(path)
    rows = [{k: v for k, v in row.items() if k not in _LEFT_OUT} for row in rows]
    if path.suffix.lower() == ".csv":
        names = list(dict.fromkeys([*_FIRST, *(name for row in rows for name in row)]))
        with atomic_open(path, newline="") as f:
            writer = csv.writer(f)
            writer.writerow(names)
            for row in rows:
                writer.writerow([_cell(row.get(name)) for name in names])
        return
    with atomic_open(path) as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True) + "\n")


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return "" if value is None else value
