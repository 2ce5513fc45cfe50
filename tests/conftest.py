"""Shared by every test: the persistent embedding cache lives in a folder of this test session, never the user's."""

import pytest


@pytest.fixture(autouse=True)
def _embedding_cache_folder(tmp_path_factory, monkeypatch):
    from chunkopt.retrievers import cache

    folder = tmp_path_factory.getbasetemp() / "embedding-cache"
    monkeypatch.setattr(cache, "cache_folder", lambda: folder)
