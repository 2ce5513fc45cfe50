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

    `encoding`, when given, is set on every strategy that has an `encoding` parameter, so one
    tokenizer measures every configuration.
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
            fixed = {"encoding": encoding} if encoding and "encoding" in schema else {}
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


def parse_configuration(spec: str, encoding: str | None = None) -> Configuration:
    """One configuration from a spec like "recursive chunk_size=256" or
    "langchain:RecursiveCharacterTextSplitter chunk_size=1000 chunk_overlap=200" (what `--baseline` takes).

    The first word names the strategy (a built-in, a plugin or a foreign splitter, see strategies.wrap);
    each further word is `param=value`, the value read as JSON when it parses (1000, 0.5, true, null,
    ["\\n\\n", " "]) and as a plain string otherwise. Quote words with spaces as in a shell.
    """
    import shlex

    try:
        words = shlex.split(spec)
    except ValueError as err:
        raise ParameterError(f"cannot read the configuration {spec!r}: {err}") from None
    if not words:
        raise ParameterError("a configuration spec names a strategy, e.g. 'recursive chunk_size=256', got an empty string")
    params: dict[str, Any] = {}
    for word in words[1:]:
        key, equals, raw = word.partition("=")
        if not equals or not key:
            raise ParameterError(f"in the configuration {spec!r}: expected param=value, got {word!r}")
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    [config] = expand([{"strategy": words[0], **{k: [v] for k, v in params.items()}}], encoding=encoding)
    return config


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


def load_grid(path: str | Path) -> list[dict[str, Any]]:
    """Read a grid from a JSON or TOML file: a list of grid lines (TOML: `[[grid]]` tables)."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ParameterError(f"cannot read grid file {path}: {err.strerror}") from None
    try:
        if path.suffix.lower() == ".toml":
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                import tomli as tomllib
            data = tomllib.loads(raw).get("grid")
        else:
            data = json.loads(raw)
    except ValueError as err:
        raise ParameterError(f"grid file {path} is not valid {path.suffix.lstrip('.').upper() or 'JSON'}: {err}") from None
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
        # --overlap is in tokens, so it applies only where overlap counts tokens (not sentences).
        if overlaps and "overlap" in schema and schema["overlap"].unit == "tokens":
            line["overlap"] = overlaps
        grid.append(line)
    return grid
