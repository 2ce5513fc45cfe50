"""The persistent embedding cache: hits, misses, least-recently-used eviction, two writers, corruption."""

import sqlite3
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from chunkopt.cli import main
from chunkopt.retrievers import cache, dense
from chunkopt.retrievers.cache import CacheUnavailable, EmbeddingStore
from chunkopt.retrievers.dense import DenseRetriever
from chunkopt.retrievers.neural import fingerprint


def bag_of_words(text: str, dimensions: int = 16) -> np.ndarray:
    """A deterministic embedding: word counts hashed into `dimensions` buckets (stable across processes)."""
    import zlib

    vector = np.zeros(dimensions, dtype=np.float32)
    for word in text.lower().split():
        vector[zlib.crc32(word.encode()) % dimensions] += 1
    return vector


class CountingRetriever(DenseRetriever):
    """A dense retriever over bag_of_words that records every text it had to embed."""

    name = "counting"
    encoded: list[str] = []

    def model_identity(self):
        return "bag-of-words:16"

    def _encode(self, texts):
        type(self).encoded.extend(texts)
        return np.stack([bag_of_words(t) for t in texts])


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """An empty cache folder, no embeddings in memory, no store opened, no warning given yet in this process."""
    monkeypatch.setattr(cache, "cache_folder", lambda: tmp_path)
    monkeypatch.setattr(dense, "_memory", {})
    monkeypatch.setattr(dense, "_stores", {})
    monkeypatch.setattr(cache, "_warned", set())
    monkeypatch.setattr(CountingRetriever, "encoded", [])


TEXTS = ["late fees are capped", "refunds take five days", "the api key rotates monthly"]


def test_stored_vectors_come_back_exactly(tmp_path):
    store = EmbeddingStore(tmp_path)
    vectors = np.stack([bag_of_words(t) for t in TEXTS]) / 3
    store.put("m", TEXTS, vectors)
    found = store.get("m", [TEXTS[2], TEXTS[0], TEXTS[2]])
    assert sorted(found) == [0, 1, 2]
    assert np.array_equal(found[0], vectors[2]) and np.array_equal(found[1], vectors[0]) and np.array_equal(found[2], vectors[2])


def test_another_model_or_text_is_a_miss(tmp_path):
    store = EmbeddingStore(tmp_path)
    store.put("m", TEXTS, np.ones((3, 4)))
    assert store.get("other-model", TEXTS) == {}
    assert store.get("m", ["late fees are capped "]) == {}  # one trailing space: another text


def test_a_second_sweep_embeds_nothing_already_cached(tmp_path, fresh, monkeypatch):
    CountingRetriever().fit(TEXTS)
    monkeypatch.setattr(dense, "_memory", {})  # as a new process would start
    retriever = CountingRetriever().fit([TEXTS[1], "a new chunk"])
    assert CountingRetriever.encoded == [*TEXTS, "a new chunk"]
    assert retriever.fit_summary() == {"chunks_embedded": 1, "chunks_cached": 1}


def test_texts_repeated_in_one_process_count_as_cached(fresh):
    CountingRetriever().fit(TEXTS)
    retriever = CountingRetriever().fit(TEXTS[:2])
    assert retriever.fit_summary() == {"chunks_embedded": 0, "chunks_cached": 2}


def test_cache_off_embeds_every_text_again(fresh, monkeypatch):
    CountingRetriever().fit(TEXTS)
    monkeypatch.setattr(dense, "_memory", {})
    CountingRetriever(cache=False).fit(TEXTS)
    assert CountingRetriever.encoded == TEXTS + TEXTS


def test_least_recently_used_entries_are_evicted_beyond_the_limit(tmp_path):
    store = EmbeddingStore(tmp_path, max_bytes=96 * 1024)
    vector = np.ones((1, 256), dtype=np.float32)  # 1 KiB per entry
    for i in range(300):
        store.put("m", [f"text {i}"], vector)
        assert store.get("m", ["text 0"])  # read after every write: always recently used
    assert store.info()["bytes"] <= 96 * 1024
    assert store.get("m", ["text 1"]) == {}  # the oldest unread entry went first
    assert sorted(store.get("m", ["text 0", "text 299"])) == [0, 1]
    assert store.info()["entries"] < 300


WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    from test_embedding_cache import bag_of_words
    from chunkopt.retrievers.cache import EmbeddingStore

    name = sys.argv[1]
    store = EmbeddingStore({folder!r})
    for batch in range(20):
        texts = [f"{{name}} text {{batch}} {{i}}" for i in range(20)] + [f"shared text {{batch}} {{i}}" for i in range(5)]
        store.put("m", texts, np.stack([bag_of_words(t) for t in texts]))
    """
)


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    script = WRITER.format(tests=str(__import__("pathlib").Path(__file__).parent), folder=str(tmp_path))
    writers = [subprocess.Popen([sys.executable, "-c", script, name], stderr=subprocess.PIPE) for name in ("a", "b")]
    errors = [w.communicate(timeout=120)[1].decode() for w in writers]
    assert [w.returncode for w in writers] == [0, 0], errors
    texts = [f"{n} text {b} {i}" for n in ("a", "b", "shared") for b in range(20) for i in range(20 if n != "shared" else 5)]
    found = EmbeddingStore(tmp_path).get("m", texts)
    assert len(found) == len(texts) == 900
    assert all(np.array_equal(found[i], bag_of_words(t)) for i, t in enumerate(texts))


def locked_new_file(folder):
    """A connection holding the write lock on a new cache file, as another process setting it up
    would: opening the store then makes SQLite answer "locked" at once, without waiting, since
    waiting could deadlock (the case behind a rare failure of the test above)."""
    other = sqlite3.connect(folder / cache.FILE_NAME, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE other_program (x)")
    return other


def test_opening_a_file_another_process_is_writing_tries_again_until_it_is_free(tmp_path, monkeypatch):
    other = locked_new_file(tmp_path)
    pauses = []
    monkeypatch.setattr(cache.time, "sleep", lambda seconds: (pauses.append(seconds), other.execute("COMMIT")))
    store = EmbeddingStore(tmp_path)  # the other process commits during the first pause
    other.close()
    assert pauses == [cache.RETRY_SECONDS]
    assert store._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    store.put("m", ["text"], np.ones((1, 4), np.float32))
    assert list(store.get("m", ["text"])) == [0]


def test_a_file_that_stays_locked_is_unavailable_after_the_busy_timeout(tmp_path, monkeypatch):
    other = locked_new_file(tmp_path)
    monkeypatch.setattr(cache, "BUSY_SECONDS", 0.2)
    with pytest.raises(CacheUnavailable, match="database is locked"):
        EmbeddingStore(tmp_path)
    other.close()


def test_a_corrupted_entry_is_a_miss_and_is_written_again(tmp_path, fresh, monkeypatch):
    CountingRetriever().fit(TEXTS)
    with sqlite3.connect(tmp_path / cache.FILE_NAME) as db:
        db.execute("UPDATE vectors SET vector = ? WHERE key = ?", (np.zeros(16, np.float32).tobytes(), cache.text_key(TEXTS[0])))
    assert sorted(EmbeddingStore(tmp_path).get("bag-of-words:16", TEXTS)) == [1, 2]
    monkeypatch.setattr(dense, "_memory", {})
    retriever = CountingRetriever().fit(TEXTS)
    assert CountingRetriever.encoded == [*TEXTS, TEXTS[0]]
    assert np.allclose(retriever.vectors[0] * np.linalg.norm(bag_of_words(TEXTS[0])), bag_of_words(TEXTS[0]))
    assert sorted(EmbeddingStore(tmp_path).get("bag-of-words:16", TEXTS)) == [0, 1, 2]


def test_a_file_that_is_not_a_database_is_rebuilt_with_a_warning(tmp_path):
    (tmp_path / cache.FILE_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.warns(RuntimeWarning, match=r"embeddings.sqlite3 was corrupted .*: removed, starting an empty one"):
        store = EmbeddingStore(tmp_path)
    assert store.rebuilt and store.get("m", TEXTS) == {}
    store.put("m", TEXTS[:1], np.ones((1, 2)))
    assert list(store.get("m", TEXTS)) == [0]


def test_an_unusable_folder_is_cache_unavailable(tmp_path):
    (tmp_path / "file").write_text("a file where the folder should be")
    with pytest.raises(CacheUnavailable, match=r"file"):
        EmbeddingStore(tmp_path / "file" / "cache")


def test_without_a_usable_cache_the_retriever_embeds_and_warns_once(tmp_path, fresh, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setattr(cache, "cache_folder", lambda: tmp_path / "file" / "cache")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        CountingRetriever().fit(TEXTS)
        monkeypatch.setattr(dense, "_memory", {})
        retriever = CountingRetriever().fit(TEXTS).search(["late fees"], k=1)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1 and messages[0].startswith("embedding cache unavailable (") and "embedding without it" in messages[0]
    assert retriever[0].tolist() == [[0]]
    assert CountingRetriever.encoded == TEXTS + TEXTS + ["late fees"]


def test_cache_info_and_clear_commands(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "cache_folder", lambda: tmp_path)
    EmbeddingStore(tmp_path).put("bag-of-words:16", TEXTS, np.ones((3, 16)))
    info = CliRunner().invoke(main, ["cache", "info"])
    assert info.exit_code == 0, info.output
    assert f"path: {tmp_path / cache.FILE_NAME}\n" in info.output
    assert "entries: 3\n  bag-of-words:16: 3\n" in info.output
    cleared = CliRunner().invoke(main, ["cache", "clear"])
    assert cleared.exit_code == 0 and f"removed 3 embeddings from {tmp_path / cache.FILE_NAME}" in cleared.output
    assert EmbeddingStore(tmp_path).info()["entries"] == 0


def test_a_size_limit_that_is_not_a_positive_integer_is_a_usage_error(monkeypatch):
    monkeypatch.setenv(cache.MAX_BYTES_VARIABLE, "2GB")
    result = CliRunner().invoke(main, ["cache", "info"])
    assert result.exit_code == 2
    assert "Error: embedding cache: CHUNKOPT_CACHE_MAX_BYTES must be a positive integer number of bytes, got '2GB'" in result.output


def test_model_fingerprint_changes_with_any_file_of_the_model(tmp_path):
    (tmp_path / "config.json").write_text('{"hidden": 384}')
    (tmp_path / "weights.bin").write_bytes(b"\x00" * 64)
    before = fingerprint(tmp_path)
    (tmp_path / "weights.bin").write_bytes(b"\x00" * 63 + b"\x01")
    fingerprint.cache_clear()
    assert fingerprint(tmp_path) != before


def test_damaged_pages_found_while_reading_mean_misses_and_a_fresh_file(tmp_path):
    store = EmbeddingStore(tmp_path)
    texts = [f"text {i}" for i in range(400)]
    store.put("m", texts, np.ones((400, 256)))
    store.close()
    with open(tmp_path / cache.FILE_NAME, "r+b") as handle:  # keep the header page, damage every page after it
        size = handle.seek(0, 2)
        handle.seek(4096)
        handle.write(b"\xff" * (size - 4096))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = EmbeddingStore(tmp_path)
        found = store.get("m", texts)
    assert found == {} and store.rebuilt
    store.put("m", texts[:1], np.full((1, 4), 2.0))
    assert np.array_equal(store.get("m", texts[:1])[0], np.full(4, 2.0, np.float32))
