"""Query files: the JSON Lines format, text-located references, errors that name the line."""

import json
from dataclasses import replace

import pytest

from chunkopt.corpus import Corpus, Document
from chunkopt.queries import (
    GeneratedQueries, Query, QueryFileError, Reference, load_queries, queries_hash, query_groups, save_queries,
)

DOC = "The cat sat on the mat.\nThe dog  slept\nby the door."
CORPUS = Corpus([Document("pets.txt", DOC), Document("other.md", "Something else entirely.")])


def write_lines(tmp_path, *lines):
    path = tmp_path / "queries.jsonl"
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path, *lines):
    return load_queries(write_lines(tmp_path, *lines), CORPUS)


def one(*refs, qid="q", query="x"):
    """A query line with the given references."""
    return {"id": qid, "query": query, "references": list(refs)}


def span(start=0, end=3, doc="pets.txt"):
    return {"doc": doc, "start": start, "end": end}


def text(t, doc="pets.txt"):
    return {"doc": doc, "text": t}


def test_offsets_reference_is_read_as_given(tmp_path):
    queries = load(tmp_path, one(span(0, 23), qid="q1", query="where is the cat?"))
    assert queries == [Query("q1", "where is the cat?", (Reference("pets.txt", 0, 23),))]


def test_blank_lines_are_allowed(tmp_path):
    queries = load(tmp_path, one(span(), qid="a"), "", "   ", one(span(), qid="b"))
    assert [q.id for q in queries] == ["a", "b"]


def test_missing_id_becomes_line_number(tmp_path):
    ref = {"doc": "pets.txt", "start": 0, "end": 3}
    queries = load(tmp_path, "", {"query": "x", "references": [ref]})
    assert queries[0].id == "line-2"


def test_integer_id_is_read_as_a_string(tmp_path):
    queries = load(tmp_path, {"id": 7, "query": "x", "references": [{"doc": "pets.txt", "start": 0, "end": 3}]})
    assert queries[0].id == "7"


def test_text_reference_is_located_exactly(tmp_path):
    queries = load(tmp_path, one(text("sat on the mat")))
    assert queries[0].references == (Reference("pets.txt", 8, 22),)


def test_text_reference_ignoring_whitespace_maps_to_the_documents_own_offsets(tmp_path):
    queries = load(tmp_path, one(text(" The dog slept by  the door ")))
    (ref,) = queries[0].references
    assert (ref.start, ref.end) == (24, 50)
    assert DOC[ref.start : ref.end] == "The dog  slept\nby the door"


def test_text_with_offsets_must_match_the_slice(tmp_path):
    line = {"id": "q", "query": "x", "references": [{"doc": "pets.txt", "start": 0, "end": 3, "text": "Dog"}]}
    with pytest.raises(QueryFileError, match=r"line 1, reference 1: text does not equal 'pets.txt'\[0:3\] = 'The'"):
        load(tmp_path, line)


def test_ambiguous_text_is_an_error_listing_where_it_occurs(tmp_path):
    with pytest.raises(QueryFileError, match=r"'the' occurs 2 times in 'pets.txt' \(at characters 15, 42\); give start"):
        load(tmp_path, one(text("the")))


def test_text_not_found_is_an_error_naming_the_line(tmp_path):
    with pytest.raises(QueryFileError, match=r"queries\.jsonl, line 2, reference 1: text 'a bird' is not in 'pets.txt'"):
        load(tmp_path, "", one(text("a bird")))


def test_malformed_json_names_line_and_column(tmp_path):
    with pytest.raises(QueryFileError, match=r"queries\.jsonl, line 2: not valid JSON \(Expecting ',' delimiter at column 12\)"):
        load(tmp_path, one(span()), '{"id": "q" "query": 1}')


def test_line_that_is_not_an_object_is_an_error(tmp_path):
    with pytest.raises(QueryFileError, match=r"line 1: expected a JSON object with id, query and references, got list"):
        load(tmp_path, "[1, 2]")


@pytest.mark.parametrize("query", [None, "", "   ", 5])
def test_missing_or_empty_query_is_an_error(tmp_path, query):
    line = {"id": "q", "references": [{"doc": "pets.txt", "start": 0, "end": 3}]}
    if query is not None:
        line["query"] = query
    with pytest.raises(QueryFileError, match=r"line 1: query must be a non-empty string"):
        load(tmp_path, line)


def test_empty_id_is_an_error(tmp_path):
    with pytest.raises(QueryFileError, match=r"line 1: id must be a non-empty string or an integer, got ''"):
        load(tmp_path, {"id": "", "query": "x", "references": [{"doc": "pets.txt", "start": 0, "end": 3}]})


def test_duplicate_id_names_both_lines(tmp_path):
    line = {"id": "q", "query": "x", "references": [{"doc": "pets.txt", "start": 0, "end": 3}]}
    with pytest.raises(QueryFileError, match=r"line 3: duplicate id 'q' \(first used on line 1\)"):
        load(tmp_path, line, "", line)


@pytest.mark.parametrize("refs", [None, [], "pets.txt"])
def test_references_must_be_a_non_empty_list(tmp_path, refs):
    line = {"id": "q", "query": "x"}
    if refs is not None:
        line["references"] = refs
    with pytest.raises(QueryFileError, match=r"line 1: references must be a non-empty list"):
        load(tmp_path, line)


def test_unknown_document_lists_available_ids_and_a_close_match(tmp_path):
    line = {"id": "q", "query": "x", "references": [{"doc": "pets.md", "start": 0, "end": 3}]}
    expected = r"document 'pets.md' is not in the corpus; did you mean 'pets.txt'\? available ids: 'other.md', 'pets.txt'"
    with pytest.raises(QueryFileError, match=expected):
        load(tmp_path, line)


@pytest.mark.parametrize("start, end", [("0", 3), (0, 3.5), (True, 3), (0, None)])
def test_offsets_must_be_integers(tmp_path, start, end):
    line = {"id": "q", "query": "x", "references": [{"doc": "pets.txt", "start": start, "end": end}]}
    with pytest.raises(QueryFileError, match=r"line 1, reference 1: (start|end) must be an integer character offset"):
        load(tmp_path, line)


@pytest.mark.parametrize("start, end", [(-1, 3), (0, 999), (5, 5), (6, 2)])
def test_range_outside_the_document_gives_its_length(tmp_path, start, end):
    line = {"id": "q", "query": "x", "references": [{"doc": "pets.txt", "start": start, "end": end}]}
    expected = rf"start={start}, end={end} is not a range inside 'pets.txt'; need 0 <= start < end <= 51"
    with pytest.raises(QueryFileError, match=expected):
        load(tmp_path, line)


def test_second_reference_is_named_in_the_error(tmp_path):
    refs = [{"doc": "pets.txt", "start": 0, "end": 3}, {"doc": "pets.txt", "start": 0}]
    with pytest.raises(QueryFileError, match=r"line 1, reference 2: end must be an integer"):
        load(tmp_path, {"id": "q", "query": "x", "references": refs})


def test_file_with_no_queries_is_an_error(tmp_path):
    with pytest.raises(QueryFileError, match=r"queries\.jsonl: no queries"):
        load(tmp_path, "", "")


def test_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(QueryFileError, match=r"query file '.*absent\.jsonl' does not exist"):
        load_queries(tmp_path / "absent.jsonl", CORPUS)


def test_query_file_error_is_a_value_error():
    assert issubclass(QueryFileError, ValueError)


def test_save_then_load_gives_the_same_queries(tmp_path):
    queries = [
        Query("a", "cat? é", (Reference("pets.txt", 0, 23),)),
        Query("b", "dog", (Reference("pets.txt", 24, 38), Reference("other.md", 0, 9))),
    ]
    save_queries(queries, tmp_path / "out" / "q.jsonl")
    assert load_queries(tmp_path / "out" / "q.jsonl", CORPUS) == queries


def test_saved_line_format(tmp_path):
    save_queries([Query("a", "cat", (Reference("pets.txt", 0, 3),))], tmp_path / "q.jsonl")
    expected = '{"id": "a", "query": "cat", "references": [{"doc": "pets.txt", "start": 0, "end": 3}]}\n'
    assert (tmp_path / "q.jsonl").read_text() == expected


GENERATOR = {"name": "cloze", "version": 3, "seed": 0, "n": 2}


def test_a_generated_set_keeps_its_generator_through_a_file(tmp_path):
    queries = GeneratedQueries([Query("gen-0001", "cat", (Reference("pets.txt", 0, 3),)),
                                Query("gen-0002", "dog", (Reference("pets.txt", 24, 38),))], GENERATOR)
    save_queries(queries, tmp_path / "q.jsonl")
    assert all(json.loads(line)["generator"] == GENERATOR for line in (tmp_path / "q.jsonl").read_text().splitlines())
    loaded = load_queries(tmp_path / "q.jsonl", CORPUS)
    assert isinstance(loaded, GeneratedQueries) and loaded.generator_info == GENERATOR and loaded == queries
    assert queries_hash(loaded) == queries_hash(list(queries))  # the generator is not part of the queries' identity


def test_a_file_of_generated_queries_with_a_line_of_ones_own_is_ones_own_and_says_so(tmp_path):
    with pytest.warns(UserWarning, match=r"1 of its 2 queries name a generator, the others none, so the set counts as your own"):
        loaded = load(tmp_path, {**one(span(), qid="g"), "generator": GENERATOR}, one(span(), qid="mine"))
    assert not isinstance(loaded, GeneratedQueries)
    with pytest.warns(UserWarning, match=r"its 2 queries name different generators"):
        other = load(tmp_path, {**one(span(), qid="g"), "generator": GENERATOR},
                     {**one(span(), qid="h"), "generator": {**GENERATOR, "seed": 1}})
    assert not isinstance(other, GeneratedQueries)


@pytest.mark.parametrize("generator", ["cloze", {"name": "cloze"}, {**GENERATOR, "version": "2"},
                                       {**GENERATOR, "seed": "one"}, {**GENERATOR, "name": 7}])
def test_a_malformed_generator_names_the_line(tmp_path, generator):
    with pytest.raises(QueryFileError, match=r"line 2: generator must be an object with a string name, an integer version"):
        load(tmp_path, one(span(), qid="a"), {**one(span(), qid="b"), "generator": generator})


def test_hash_changes_with_any_offset_and_is_stable():
    a = [Query("a", "cat", (Reference("pets.txt", 0, 3),))]
    b = [Query("a", "cat", (Reference("pets.txt", 0, 4),))]
    assert queries_hash(a) == queries_hash(list(a))
    assert queries_hash(a) != queries_hash(b)
    assert len(queries_hash(a)) == 64


def test_a_group_survives_a_file_and_counts_in_the_hash(tmp_path):
    queries = [Query("a", "cat", (Reference("pets.txt", 0, 3),), "p1"), Query("b", "dog", (Reference("pets.txt", 24, 38),))]
    save_queries(queries, tmp_path / "q.jsonl")
    assert load_queries(tmp_path / "q.jsonl", CORPUS) == queries
    assert '"group": "p1"' in (tmp_path / "q.jsonl").read_text().splitlines()[0]
    assert queries_hash(queries) != queries_hash([replace(q, group=None) for q in queries])


def test_an_integer_group_is_read_as_a_string(tmp_path):
    assert load(tmp_path, {**one(span()), "group": 7})[0].group == "7"


@pytest.mark.parametrize("group", ["", True, 1.5, ["p1"]])
def test_a_group_that_is_not_a_name_is_an_error(tmp_path, group):
    with pytest.raises(QueryFileError, match=r"line 1: group must be a non-empty string or an integer"):
        load(tmp_path, {**one(span()), "group": group})


def test_query_groups_give_an_ungrouped_query_a_group_of_its_own():
    queries = [Query("a", "x", (Reference("pets.txt", 0, 3),), "p"), Query("b", "y", (Reference("pets.txt", 0, 3),), "p"),
               Query("c", "z", (Reference("pets.txt", 0, 3),))]
    assert query_groups(queries) == ["group:p", "group:p", "query:c"]
    assert query_groups([replace(q, group=None) for q in queries]) is None
