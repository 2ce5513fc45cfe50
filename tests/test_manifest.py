"""The manifest of an incremental run: round trip, operations, rebuilds and damaged files."""

import json

import pytest

import strategies
from chunkopt.corpus import Corpus, Document
from chunkopt.manifest import (
    MANIFEST_VERSION, DocumentState, Manifest, ManifestError, read_manifest, update, write_manifest,
)

PARAGRAPHS = [f"Paragraph {n} is about subject {n}. " + " ".join(f"w{n}x{k}" for k in range(25)) + "."
              for n in range(6)]
TEXT = "\n\n".join(PARAGRAPHS)
CHUNKER = strategies.get("recursive", chunk_size=120)  # one paragraph (110 tokens) per chunk


def corpus(**texts):
    return Corpus([Document(doc_id, text) for doc_id, text in texts.items()])


def test_the_first_run_upserts_every_chunk():
    plan = update(corpus(a=TEXT, b="Tea."), CHUNKER, None)
    expected = CHUNKER.chunk(TEXT, doc_id="a") + CHUNKER.chunk("Tea.", doc_id="b")
    assert [c.id for c in plan.upserts] == [c.id for c in expected]
    assert plan.deletes == () and plan.kept == 0 and not plan.rebuild


def test_the_manifest_records_each_documents_hash_and_ordered_ids():
    plan = update(corpus(a=TEXT), CHUNKER, None)
    state = plan.manifest.documents["a"]
    assert state.chunks == tuple(c.id for c in CHUNKER.chunk(TEXT, doc_id="a"))
    assert state.doc_hash == CHUNKER.chunk(TEXT)[0].doc_hash
    assert plan.manifest.config == CHUNKER.fingerprint


def test_the_manifest_round_trips_through_its_file(tmp_path):
    manifest = update(corpus(a=TEXT, b="Tea."), CHUNKER, None).manifest
    write_manifest(manifest, tmp_path / "state.json")
    assert read_manifest(tmp_path / "state.json") == manifest


def test_an_unchanged_corpus_needs_no_operation():
    first = update(corpus(a=TEXT), CHUNKER, None).manifest
    plan = update(corpus(a=TEXT), CHUNKER, first)
    assert list(plan.operations()) == [] and plan.kept == len(first.documents["a"].chunks) and plan.unchanged == 1


def test_an_edited_paragraph_upserts_its_new_chunk_and_deletes_the_old_one():
    first = update(corpus(a=TEXT), CHUNKER, None).manifest
    edited = TEXT.replace("w3x10", "w3x10 changed")
    plan = update(corpus(a=edited), CHUNKER, first)
    old = [c for c in CHUNKER.chunk(TEXT, doc_id="a") if "w3x10" in c.text]
    new = [c for c in CHUNKER.chunk(edited, doc_id="a") if "w3x10 changed" in c.text]
    assert [c.id for c in plan.upserts] == [c.id for c in new] and len(new) == 1
    assert plan.deletes == (("a", old[0].id),)
    assert plan.kept == len(PARAGRAPHS) - 1 and plan.changed == ("a",)


def test_a_removed_document_deletes_all_its_chunks():
    first = update(corpus(a=TEXT, b="Tea."), CHUNKER, None).manifest
    plan = update(corpus(a=TEXT), CHUNKER, first)
    assert plan.deletes == tuple(("b", i) for i in first.documents["b"].chunks)
    assert plan.removed == ("b",) and "b" not in plan.manifest.documents


def test_another_configuration_rebuilds_everything():
    first = update(corpus(a=TEXT), CHUNKER, None).manifest
    other = strategies.get("recursive", chunk_size=250)
    plan = update(corpus(a=TEXT), other, first)
    assert plan.rebuild
    assert {i for _, i in plan.deletes} == set(first.documents["a"].chunks)
    assert [c.id for c in plan.upserts] == [c.id for c in other.chunk(TEXT, doc_id="a")]


def test_operations_are_upserts_then_deletes_with_the_chunk_fields():
    first = update(corpus(a=TEXT, b="Tea."), CHUNKER, None).manifest
    ops = list(update(corpus(a=TEXT.replace("w3x10", "w3x10 changed")), CHUNKER, first).operations())
    assert [op["op"] for op in ops] == ["upsert", "delete", "delete"]
    assert "w3x10 changed" in ops[0]["text"] and {"id", "doc_hash", "config", "start", "metadata"} <= set(ops[0])
    assert ops[1] == {"op": "delete", "id": first.documents["a"].chunks[3], "doc_id": "a"}
    assert ops[2] == {"op": "delete", "id": first.documents["b"].chunks[0], "doc_id": "b"}


def test_a_missing_manifest_file_reads_as_none(tmp_path):
    assert read_manifest(tmp_path / "state.json") is None


def test_a_truncated_manifest_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "state.json"
    write_manifest(update(corpus(a=TEXT), CHUNKER, None).manifest, path)
    path.write_text(path.read_text()[:40])
    with pytest.raises(ManifestError, match="state.json is not valid JSON"):
        read_manifest(path)


def test_a_json_file_that_is_no_manifest_is_refused(tmp_path):
    (tmp_path / "state.json").write_text('{"strategy": "fixed"}')
    with pytest.raises(ManifestError, match="is not a chunkopt manifest"):
        read_manifest(tmp_path / "state.json")


def test_a_manifest_from_a_newer_chunkopt_is_refused(tmp_path):
    (tmp_path / "state.json").write_text(json.dumps({"manifest_version": MANIFEST_VERSION + 1, "chunkopt_version": "9.0"}))
    with pytest.raises(ManifestError, match="written by chunkopt 9.0.*Upgrade"):
        read_manifest(tmp_path / "state.json")


def test_a_manifest_with_damaged_entries_is_refused(tmp_path):
    data = update(corpus(a=TEXT), CHUNKER, None).manifest.to_dict()
    data["documents"]["a"]["chunks"] = [1, 2]
    (tmp_path / "state.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="is damaged"):
        read_manifest(tmp_path / "state.json")


def test_writing_a_manifest_leaves_no_temporary_file(tmp_path):
    write_manifest(Manifest("c", "fixed", {}, {"a": DocumentState("h", ("i",))}), tmp_path / "state.json")
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_an_unwritable_place_is_refused_naming_the_manifest(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ManifestError, match="cannot write manifest .*file/state.json"):
        write_manifest(Manifest("c", "fixed", {}, {}), tmp_path / "file" / "state.json")


def test_a_rebuild_never_deletes_an_id_it_upserts():
    """After a rebuild that was interrupted, the state mixes both configurations' ids: those of the new one stay."""
    new = CHUNKER.chunk(TEXT, doc_id="a")
    mixed = Manifest("mixed", "recursive", {}, {"a": DocumentState("", ("old-id", new[0].id))})
    plan = update(corpus(a=TEXT), CHUNKER, mixed)
    assert plan.rebuild and plan.deletes == (("a", "old-id"),)
    assert [c.id for c in plan.upserts] == [c.id for c in new]
