"""Parameter grids: which chunking configurations a sweep tries.

A grid is a list of dicts, as in scikit-learn's GridSearchCV: each dict names a `strategy` (or a
list of them) and, for each parameter, one value or a list of values; the configurations are the
cartesian product within each dict. An `overlap` may be written as a percentage of the size
("15%"), so one grid line serves every size. Every configuration is validated against its
strategy's schema before anything runs.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import strategies
from chunkopt.corpus import read_text_file
from chunkopt.specs import parse_spec
from strategies.base import ParameterError, Strategy

DEFAULT_SIZES = (128, 256, 512, 1024)

# The meaningful axes of each built-in; a plugin gets its size parameter over DEFAULT_SIZES.
DEFAULT_GRID: tuple[dict[str, Any], ...] = (
    {"strategy": "fixed", "chunk_size": list(DEFAULT_SIZES), "overlap": [0, "15%"]},
    {"strategy": "recursive", "chunk_size": list(DEFAULT_SIZES), "overlap": [0, "15%"]},
    {"strategy": "sentence", "chunk_size": list(DEFAULT_SIZES), "overlap": [0, 1]},
    {"strategy": "semantic", "max_tokens": list(DEFAULT_SIZES), "breakpoint": ["percentile", "interquartile"]},
)


@dataclass(frozen=True)
class Configuration:
    """One point of the grid: a strategy name and its complete, validated parameters."""

    strategy: str
    params: Mapping[str, Any]

    @property
    def key(self) -> str:
        """A stable text key, used to recognise finished work when a sweep resumes."""
        return json.dumps({"strategy": self.strategy, "params": dict(self.params)}, sort_keys=True)

    @property
    def size(self) -> int:
        """The most tokens a chunk of this configuration may hold (its strategy's size parameter)."""
        return self.params[strategies.strategy_class(self.strategy).size_param]

    def build(self) -> Strategy:
        return strategies.get(self.strategy, **self.params)

    def label(self) -> str:
        """Short name for tables: the size, then only the parameters that differ from their defaults."""
        cls = strategies.strategy_class(self.strategy)
        defaults = {p.name: p.default for p in cls.schema}
        shown = [cls.size_param] + [
            k for k, v in self.params.items() if k != cls.size_param and _differs(v, defaults.get(k))
        ]
        return self.strategy + " " + " ".join(f"{k}={self.params[k]}" for k in shown if k in self.params)


def _differs(value: Any, default: Any) -> bool:
    return (list(default) if isinstance(default, tuple) else default) != value


def default_grid() -> list[dict[str, Any]]:
    """Every registered strategy over its meaningful parameters."""
    grid = [dict(line) for line in DEFAULT_GRID if line["strategy"] in strategies.available()]
    covered = {line["strategy"] for line in grid}
    for name in strategies.available():
        if name not in covered:
            grid.append({"strategy": name, strategies.strategy_class(name).size_param: list(DEFAULT_SIZES)})
    return grid


def expand(grid: Iterable[Mapping[str, Any]], encoding: str | None = None) -> list[Configuration]:
    """All configurations of `grid`, validated, in grid order, without duplicates.

    `encoding`, when given, is set on every strategy that has an `encoding` parameter and whose
    grid line does not name its own, so one tokenizer measures every configuration unless the
    grid says otherwise.
    """
    configurations: dict[str, Configuration] = {}
    for number, line in enumerate(grid, start=1):
        if not isinstance(line, Mapping) or "strategy" not in line:
            raise ParameterError(f"grid entry {number} must be an object with a 'strategy' key, got {line!r}")
        names = _as_list(line["strategy"])
        axes = {k: _as_list(v) for k, v in line.items() if k != "strategy"}
        for name in names:
            cls = strategies.strategy_class(name)
            schema = {p.name: p for p in cls.schema}
            unknown = sorted(set(axes) - set(schema))
            if unknown:
                raise ParameterError(
                    f"grid entry {number}: {name} has no parameter {unknown[0]!r}; valid parameters are "
                    + ", ".join(schema)
                )
            fixed = {"encoding": encoding} if encoding and "encoding" in schema and "encoding" not in axes else {}
            for values in itertools.product(*axes.values()):
                params = dict(zip(axes, values))
                params.update(fixed)
                params = _resolve_percentages(params, cls, number)
                try:
                    chunker = cls(**params)
                except ParameterError as err:
                    raise ParameterError(f"grid entry {number}: {err}") from None
                config = Configuration(name, chunker.params)
                configurations.setdefault(config.key, config)
    if not configurations:
        raise ParameterError("the grid is empty: give at least one strategy")
    return list(configurations.values())


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _resolve_percentages(params: dict[str, Any], cls: type[Strategy], number: int) -> dict[str, Any]:
    overlap = params.get("overlap")
    if not (isinstance(overlap, str) and overlap.endswith("%")):
        return params
    size = params.get(cls.size_param, next(p.default for p in cls.schema if p.name == cls.size_param))
    try:
        percent = float(overlap[:-1])
    except ValueError:
        raise ParameterError(f"grid entry {number}: overlap must be tokens or a percentage like '15%', got {overlap!r}") from None
    return {**params, "overlap": int(round(size * percent / 100))}


GRID_FORMATS = {".json": "JSON", ".toml": "TOML"}


def grid_encoding(grid: Iterable[Mapping[str, Any]]) -> set[str]:
    """The encodings a grid's lines name themselves (empty when none does)."""
    return {str(v) for line in grid if isinstance(line, Mapping) for v in _as_list(line.get("encoding", []))}


def load_grid(path: str | Path) -> list[dict[str, Any]]:
    """Read a grid from a JSON or TOML file: a list of grid lines (TOML: `[[grid]]` tables)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in GRID_FORMATS:
        raise ParameterError(
            f"grid file {path}: chunkopt reads grids in JSON (.json) or TOML (.toml), not {suffix[1:].upper() or 'files without an extension'}"
        )
    raw = read_text_file(path, "grid file", ParameterError)
    try:
        if suffix == ".toml":
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                import tomli as tomllib
            data = tomllib.loads(raw).get("grid")
        else:
            data = json.loads(raw)
    except ValueError as err:
        raise ParameterError(f"grid file {path} is not valid {GRID_FORMATS[suffix]}: {err}") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise ParameterError(
            f"grid file {path} must hold a list of objects like "
            '{"strategy": "fixed", "chunk_size": [256, 512]} (TOML: [[grid]] tables)'
        )
    return data


def grid_from_flags(
    strategy_names: list[str], chunk_sizes: list[int], overlaps: list[Any]
) -> list[dict[str, Any]]:
    """A grid from CLI flags: each named strategy (default: all) over the given sizes and overlaps.

    Axes not given keep the default grid's values, so `--chunk-size 256` still tries overlaps.
    """
    names = strategy_names or [line["strategy"] for line in default_grid()]
    grid = []
    defaults = {line["strategy"]: line for line in default_grid()}
    for name in names:
        cls = strategies.strategy_class(name)
        schema = {p.name: p for p in cls.schema}
        line: dict[str, Any] = dict(defaults.get(name, {"strategy": name}))
        if chunk_sizes:
            line[cls.size_param] = chunk_sizes
        # --overlap is in tokens, so it applies only where overlap counts tokens (not sentences);
        # a strategy named on purpose where it cannot apply is refused rather than run without it.
        if overlaps and "overlap" in schema and schema["overlap"].unit == "tokens":
            line["overlap"] = overlaps
        elif overlaps and strategy_names:
            if "overlap" not in schema:
                raise ParameterError(f"--overlap cannot apply to {name}: it has no overlap parameter")
            unit = schema["overlap"].unit
            raise ParameterError(
                f"--overlap counts tokens, but {name}'s overlap counts {unit}; give its values in a --grid file, "
                f'e.g. {{"strategy": "{name}", "overlap": [0, 1]}}, or leave {name} out of --strategy'
            )
        grid.append(line)
    return grid


def parse_configuration(spec: str, encoding: str | None = None) -> Configuration:
    """One configuration written as on the command line (what `--baseline` takes):
    `"fixed chunk_size=512 overlap=64"`, `"langchain:RecursiveCharacterTextSplitter chunk_size=1000"`.

    The first word names the strategy (a built-in, a plugin or a foreign splitter, see
    strategies.wrap), then `param=value` words; a value is read as JSON where it can be (`512`,
    `null`, `'["\\n\\n", ". "]'`) and as a string otherwise (`15%`, `percentile`). Quote words with
    spaces as in a shell. Parameters not given keep their defaults, and `encoding` is applied as
    in `expand`.
    """
    name, params = parse_spec(spec, "a configuration", "fixed chunk_size=512 overlap=64")
    # Each value an axis of one value, so a list value (separators) stays one value.
    line: dict[str, Any] = {"strategy": name, **{k: [v] for k, v in params.items()}}
    try:
        return expand([line], encoding)[0]
    except ParameterError as err:
        raise ParameterError(f"configuration {spec!r}: {str(err).removeprefix('grid entry 1: ')}") from None
