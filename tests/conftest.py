"""Shared by every test: the persistent embedding cache lives in a folder of this test session, never the user's;
and a way to install a fake plugin distribution, for the registries of strategies and retrievers."""

import sys
import textwrap

import pytest


@pytest.fixture(autouse=True)
def _embedding_cache_folder(tmp_path_factory, monkeypatch):
    from chunkopt.retrievers import cache

    folder = tmp_path_factory.getbasetemp() / "embedding-cache"
    monkeypatch.setattr(cache, "cache_folder", lambda: folder)


@pytest.fixture
def fake_distribution(tmp_path, monkeypatch):
    """install(module, source, group, entries, registry): a distribution on sys.path whose module
    `module` holds `source` and which declares `entries` ({name: "module:Class"}) in the entry-point
    `group`; the registry's once-per-process entry-point cache is cleared before and after."""
    installed = []

    def install(module, source, group, entries, registry):
        (tmp_path / f"{module}.py").write_text(source)
        dist_info = tmp_path / f"{module}-1.0.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
        lines = "".join(f"{name} = {target}\n" for name, target in entries.items())
        (dist_info / "entry_points.txt").write_text(textwrap.dedent(f"[{group}]\n") + lines)
        monkeypatch.syspath_prepend(str(tmp_path))
        registry._installed_targets.cache_clear()
        installed.append((module, registry))

    yield install
    for module, registry in installed:
        sys.modules.pop(module, None)
        registry._installed_targets.cache_clear()
