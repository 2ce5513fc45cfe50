"""Grids: the cartesian product of each line, validated before anything runs."""

import json

import pytest

import strategies
from chunkopt.grid import default_grid, expand, grid_from_flags, load_grid, parse_configuration
from strategies.base import ParameterError


def sizes(configs, name="chunk_size"):
    return [(c.strategy, c.params[name], c.params.get("overlap")) for c in configs]


def test_a_line_expands_to_the_product_of_its_values():
    configs = expand([{"strategy": "fixed", "chunk_size": [128, 256], "overlap": [0, 16]}])
    assert sizes(configs) == [("fixed", 128, 0), ("fixed", 128, 16), ("fixed", 256, 0), ("fixed", 256, 16)]


def test_a_single_value_needs_no_list():
    assert sizes(expand([{"strategy": "fixed", "chunk_size": 64}])) == [("fixed", 64, 0)]


def test_a_line_may_name_several_strategies():
    configs = expand([{"strategy": ["fixed", "recursive"], "chunk_size": 64}])
    assert [c.strategy for c in configs] == ["fixed", "recursive"]


def test_overlap_as_a_percentage_of_the_size():
    configs = expand([{"strategy": "fixed", "chunk_size": [100, 1000], "overlap": "15%"}])
    assert sizes(configs) == [("fixed", 100, 15), ("fixed", 1000, 150)]


def test_configurations_hold_every_parameter_so_they_can_be_rebuilt():
    (config,) = expand([{"strategy": "fixed", "chunk_size": 64}])
    assert config.params == strategies.get("fixed", chunk_size=64).params
    assert config.build() == strategies.get("fixed", chunk_size=64)


def test_duplicate_configurations_are_tried_once():
    configs = expand([{"strategy": "fixed", "chunk_size": [64, 64]}, {"strategy": "fixed", "chunk_size": 64}])
    assert len(configs) == 1


def test_encoding_is_set_on_every_configuration():
    (config,) = expand([{"strategy": "fixed", "chunk_size": 64}], encoding="cl100k_base")
    assert config.params["encoding"] == "cl100k_base"


def test_bad_value_is_reported_with_its_grid_entry():
    with pytest.raises(ParameterError, match="grid entry 2: fixed: chunk_size must be an integer >= 1, got 0"):
        expand([{"strategy": "fixed", "chunk_size": 64}, {"strategy": "fixed", "chunk_size": [128, 0]}])


def test_unknown_parameter_lists_the_valid_ones():
    with pytest.raises(ParameterError, match="grid entry 1: fixed has no parameter 'size'; valid parameters are chunk_size"):
        expand([{"strategy": "fixed", "size": 64}])


def test_unknown_strategy_lists_the_available_ones():
    with pytest.raises(ParameterError, match="unknown strategy 'nope'; available strategies: fixed"):
        expand([{"strategy": "nope"}])


def test_line_without_strategy_is_rejected():
    with pytest.raises(ParameterError, match="grid entry 1 must be an object with a 'strategy' key"):
        expand([{"chunk_size": 64}])


def test_default_grid_covers_every_registered_strategy():
    assert sorted({c.strategy for c in expand(default_grid())}) == strategies.available()


def test_flags_set_sizes_and_token_overlaps():
    grid = grid_from_flags(["fixed"], [256, 512], [0, 64])
    assert sizes(expand(grid)) == [("fixed", 256, 0), ("fixed", 256, 64), ("fixed", 512, 0), ("fixed", 512, 64)]


def test_token_overlap_flags_leave_sentence_overlap_alone_when_no_strategy_is_named():
    grid = grid_from_flags([], [256], [64])
    assert {c.params["overlap"] for c in expand(grid) if c.strategy == "sentence"} <= {0, 1}
    assert {c.params["overlap"] for c in expand(grid) if c.strategy == "fixed"} == {64}


def test_token_overlap_flag_for_a_named_sentence_strategy_is_refused_with_the_reason():
    with pytest.raises(ParameterError, match="--overlap counts tokens, but sentence's overlap counts sentences"):
        grid_from_flags(["sentence"], [256], [3])


def test_overlap_flag_for_a_named_strategy_without_overlap_is_refused():
    with pytest.raises(ParameterError, match="--overlap cannot apply to semantic: it has no overlap parameter"):
        grid_from_flags(["semantic"], [256], [3])


class Labelled(strategies.Strategy):
    """A toy strategy whose `encoding` is only a label (no tokenizer is loaded, so nothing is downloaded)."""

    name = "labelled"
    schema = (strategies.Param("chunk_size", int, 8, "size", minimum=1, unit="tokens"),
              strategies.Param("encoding", str, "cl100k_base", "a label"))

    def split(self, text):
        return [strategies.Span(0, len(text), 1)]


def test_grid_file_encoding_is_kept_when_the_sweep_sets_one_for_the_rest(monkeypatch):
    monkeypatch.setattr(strategies, "_registered", {})
    strategies.register("labelled", Labelled)
    configs = expand([{"strategy": "labelled", "chunk_size": 1, "encoding": "gpt2"}, {"strategy": "labelled", "chunk_size": 2}],
                     encoding="o200k_base")
    assert [c.params["encoding"] for c in configs] == ["gpt2", "o200k_base"]


def test_grid_file_in_another_format_names_the_formats_read(tmp_path):
    path = tmp_path / "grid.yaml"
    path.write_text("- strategy: fixed\n")
    with pytest.raises(ParameterError, match=r"chunkopt reads grids in JSON \(.json\) or TOML \(.toml\), not YAML"):
        load_grid(path)


def test_grid_file_in_utf16_with_a_bom_is_read(tmp_path):
    path = tmp_path / "grid.json"
    path.write_bytes('[{"strategy": "fixed", "chunk_size": [64]}]'.encode("utf-16"))
    assert load_grid(path) == [{"strategy": "fixed", "chunk_size": [64]}]


def test_size_flag_sets_max_tokens_for_semantic():
    grid = grid_from_flags(["semantic"], [300], [])
    assert {c.params["max_tokens"] for c in expand(grid)} == {300}


def test_grid_file_in_json(tmp_path):
    path = tmp_path / "grid.json"
    path.write_text(json.dumps([{"strategy": "fixed", "chunk_size": [64, 128]}]))
    assert sizes(expand(load_grid(path))) == [("fixed", 64, 0), ("fixed", 128, 0)]


def test_grid_file_in_toml(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text('[[grid]]\nstrategy = "fixed"\nchunk_size = [64, 128]\n')
    assert sizes(expand(load_grid(path))) == [("fixed", 64, 0), ("fixed", 128, 0)]


def test_malformed_grid_file_names_the_file(tmp_path):
    path = tmp_path / "grid.json"
    path.write_text("[{")
    with pytest.raises(ParameterError, match="grid file .*grid.json is not valid JSON"):
        load_grid(path)


def test_a_spec_names_a_strategy_and_its_parameters():
    config = parse_configuration("recursive chunk_size=256 overlap=15%")
    assert config.strategy == "recursive" and config.params["chunk_size"] == 256 and config.params["overlap"] == 38


def test_a_spec_reads_values_as_json_and_falls_back_to_strings():
    config = parse_configuration("""recursive chunk_size=64 separators='["\\n\\n", ". "]' encoding=cl100k_base""")
    assert config.params["separators"] == ["\n\n", ". "] and config.params["encoding"] == "cl100k_base"


def test_a_spec_word_without_equals_is_refused_naming_it():
    with pytest.raises(ParameterError, match="expected param=value, got 'chunk_size'"):
        parse_configuration("recursive chunk_size")


def test_a_langchain_spec_is_a_configuration_of_the_wrapped_splitter():
    pytest.importorskip("langchain_text_splitters")
    config = parse_configuration("langchain:RecursiveCharacterTextSplitter chunk_size=1000 chunk_overlap=200")
    assert config.strategy == "langchain:RecursiveCharacterTextSplitter"
    assert config.params["chunk_size"] == 1000 and config.params["chunk_overlap"] == 200 and config.size == 1000
    assert config.build().splitter._chunk_size == 1000
