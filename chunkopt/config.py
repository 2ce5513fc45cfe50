"""The tuned configuration: the JSON a sweep exports and a pipeline loads back to chunk new documents.

The file records what to build (strategy, parameters, tokenizer) and the evidence for it (the
winner's metrics, the retriever and budget it was measured with, a fingerprint of the corpus
and a hash of the queries), so a team can tell later whether the tuning still applies.
Its JSON Schema is `chunkopt/tuned_config.schema.json`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import chunkopt
import strategies
from chunkopt.corpus import read_text_file
from chunkopt.outputs import write_atomic
from chunkopt.verdict import sample_phrase
from strategies.base import ParameterError, Strategy

SCHEMA_VERSION = 3  # 2 adds "confidence", 3 its "rule"; files of versions 1 and 2 still load
SCHEMA_PATH = Path(__file__).with_name("tuned_config.schema.json")
FIELDS = (
    "schema_version",
    "chunkopt_version",
    "created",
    "strategy",
    "params",
    "tokenizer",
    "retriever",
    "retriever_params",
    "budget",
    "objective",
    "constraints",
    "metrics",
    "confidence",
    "corpus",
    "queries",
)


class ConfigError(ValueError):
    """A tuned configuration file that cannot be loaded, with the reason and the file."""


def tuned_config(sweep: Any, corpus: Any, queries: Any) -> dict[str, Any]:
    """The tuned configuration of a fitted Sweep, as a JSON-ready dict."""
    if sweep.best_config_ is None:
        raise ConfigError(f"the sweep has no recommendation, so there is nothing to export: {sweep.explain()}")
    best = sweep.best_row_
    params = dict(sweep.best_config_["params"])
    return {
        "schema_version": SCHEMA_VERSION,
        "chunkopt_version": chunkopt.__version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "strategy": sweep.best_config_["strategy"],
        "params": params,
        "tokenizer": params.get("encoding", sweep.encoding),
        "retriever": sweep.retriever,
        "retriever_params": sweep.retriever_params,
        "budget": sweep.budget,
        "objective": sweep.objective,
        "constraints": sweep.constraints.as_dict(),
        "metrics": {
            k: v for k, v in best.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
            and k not in ("top_k", "token_budget", "rank", "ci_low", "ci_high", "p_vs_best")
        },
        "confidence": confidence(sweep),
        "corpus": {"n_documents": len(corpus), "files": corpus.fingerprint()},
        "queries": _queries_record(queries),
    }


def _queries_record(queries: Any) -> dict[str, Any]:
    """How many queries, their hash, and for a generated set what generated it (name, version, seed)."""
    from chunkopt.queries import queries_hash

    record: dict[str, Any] = {"n_queries": len(queries), "sha256": queries_hash(queries)}
    generator = getattr(queries, "generator_info", None)
    if generator is not None:
        record["generator"] = generator
    return record


def confidence(sweep: Any) -> dict[str, Any]:
    """The evidence behind a fitted Sweep's recommendation, as the tuned JSON records it."""
    decision, best, base = sweep.decision_, sweep.best_row_, sweep.baseline_row_
    record = {
        "level": 0.95,
        "interval": [best["ci_low"], best["ci_high"]],
        "interval_method": f"percentile bootstrap over {sample_phrase(sweep.n_queries_, decision.groups)} "
                           f"({decision.resamples} resamples, seed {decision.seed})",
        "test": (
            f"one-sided paired sign-flip permutation test of per-query {sweep.objective} against the top scorer"
            + ("" if decision.groups is None else f", the signs flipped per group ({decision.groups:,} groups)")
            + ", Holm-corrected over the configurations compared"
        ),
        "alpha": decision.alpha,
        "resamples": decision.resamples,
        "seed": decision.seed,
        "rule": decision.rule,
        "top_scorer": sweep.top_row_["label"],
        "tied": [row["label"] for row in sweep.tied_],
        "baseline": None,
    }
    if base is not None:
        record["baseline"] = {"label": base["label"], "default": sweep.baseline_is_default, **decision.gain}
    return record


def save_config(config: Mapping[str, Any], path: str | Path) -> None:
    """Write a tuned configuration (validated against the schema first)."""
    validate_config(config, source=str(path))
    write_atomic(path, json.dumps(config, indent=2, ensure_ascii=False) + "\n")


def read_config(path: str | Path) -> dict[str, Any]:
    """The tuned configuration stored at `path`, checked against the schema version and fields."""
    path = Path(path)
    try:
        config = json.loads(read_text_file(path, "tuned configuration", ConfigError))
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path} is not valid JSON (line {err.lineno}: {err.msg})") from None
    validate_config(config, source=str(path))
    return config


def load_config(path: str | Path) -> Strategy:
    """The chunker a tuned configuration describes: `load_config("tuned.json").chunk(text)`."""
    config = read_config(path)
    try:
        return strategies.get(config["strategy"], **config["params"])
    except ParameterError as err:
        raise ConfigError(f"{path}: {err}") from None


def validate_config(config: Any, source: str = "configuration") -> None:
    """Raise ConfigError unless `config` is a tuned configuration this chunkopt can read."""
    if not isinstance(config, dict):
        raise ConfigError(f"{source}: a tuned configuration is a JSON object, got {type(config).__name__}")
    version = config.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise ConfigError(
            f"{source} was written with schema_version {version} by a newer chunkopt "
            f"({config.get('chunkopt_version', 'unknown version')}); this chunkopt {chunkopt.__version__} "
            f"reads schema_version {SCHEMA_VERSION}. Upgrade chunkopt to load it."
        )
    unknown = sorted(set(config) - set(FIELDS))
    if unknown:
        raise ConfigError(f"{source}: unknown field {unknown[0]!r}; a tuned configuration has the fields {', '.join(FIELDS)}")
    import jsonschema  # noqa: PLC0415 (only needed here)

    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(config), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top level)"
        raise ConfigError(f"{source}: {where}: {errors[0].message}")


def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
