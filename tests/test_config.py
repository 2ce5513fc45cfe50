"""The tuned JSON: valid against its schema, loads back into the same chunker, refuses what it cannot read."""

import json

import jsonschema
import pytest

import strategies
from chunkopt.config import SCHEMA_PATH, ConfigError, load_config, read_config, save_config


def minimal_config(**changes):
    config = {
        "schema_version": 1,
        "chunkopt_version": "0.1.0",
        "strategy": "fixed",
        "params": strategies.get("fixed", chunk_size=64, overlap=8).params,
        "tokenizer": "cl100k_base",
    }
    config.update(changes)
    return config


def test_the_schema_file_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))


def test_saved_config_loads_back_into_an_equal_chunker(tmp_path):
    save_config(minimal_config(), tmp_path / "tuned.json")
    assert load_config(tmp_path / "tuned.json") == strategies.get("fixed", chunk_size=64, overlap=8)


def test_loaded_chunker_chunks_identically(tmp_path):
    text = "The quick brown fox jumps over the lazy dog. " * 40
    save_config(minimal_config(), tmp_path / "tuned.json")
    expected = strategies.get("fixed", chunk_size=64, overlap=8).chunk(text, doc_id="d")
    assert load_config(tmp_path / "tuned.json").chunk(text, doc_id="d") == expected


def test_config_from_a_newer_schema_is_refused_with_advice(tmp_path):
    path = tmp_path / "tuned.json"
    path.write_text(json.dumps(minimal_config(schema_version=4, chunkopt_version="9.0")))
    with pytest.raises(ConfigError, match="written with schema_version 4 by a newer chunkopt.*Upgrade chunkopt"):
        read_config(path)


def test_unknown_field_is_refused(tmp_path):
    path = tmp_path / "tuned.json"
    path.write_text(json.dumps(minimal_config(colour="blue")))
    with pytest.raises(ConfigError, match="unknown field 'colour'"):
        read_config(path)


def test_field_of_the_wrong_type_names_its_path(tmp_path):
    path = tmp_path / "tuned.json"
    path.write_text(json.dumps(minimal_config(budget={"top_k": "five"})))
    with pytest.raises(ConfigError, match="budget/top_k: 'five' is not of type"):
        read_config(path)


def test_invalid_json_names_the_file_and_line(tmp_path):
    path = tmp_path / "tuned.json"
    path.write_text('{\n  "strategy": \n}')
    with pytest.raises(ConfigError, match=r"tuned.json is not valid JSON \(line 3"):
        read_config(path)


def test_bad_parameter_in_the_file_names_the_file(tmp_path):
    path = tmp_path / "tuned.json"
    path.write_text(json.dumps(minimal_config(params={"chunk_size": 0})))
    with pytest.raises(ConfigError, match="tuned.json: fixed: chunk_size must be an integer >= 1, got 0"):
        load_config(path)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read tuned configuration"):
        read_config(tmp_path / "absent.json")
