"""A sweep on a real Dask cluster (distributed.LocalCluster, two worker processes) matches the serial one."""

import pytest

distributed = pytest.importorskip("distributed")

from chunkopt.corpus import Corpus, Document  # noqa: E402
from chunkopt.integrations.dask import on_dask  # noqa: E402
from chunkopt.queries import Query, Reference  # noqa: E402
from chunkopt.sweep import Sweep  # noqa: E402

TEXTS = {
    "bread.md": "Sourdough bread needs a lively starter fed with flour and water. " * 20,
    "stars.md": "Neutron stars spin rapidly and emit beams of radio waves called pulsars. " * 20,
}
GRID = [{"strategy": "fixed", "chunk_size": [16, 32, 64], "overlap": 0}, {"strategy": "recursive", "chunk_size": [16, 32, 64]}]
TIMINGS = {"chunk_seconds", "index_seconds", "query_ms_p50", "query_ms_p95"}

LOADS = 0  # how many times this process unpickled a CountingCorpus


class CountingCorpus(Corpus):
    """A Corpus that counts, in each worker process, how often it arrives (is unpickled)."""

    def __setstate__(self, state):
        global LOADS
        LOADS += 1
        self.__dict__.update(state)


def loads_in_this_process():
    return LOADS


def comparable(sweep):
    return [{k: v for k, v in row.items() if k not in TIMINGS} for row in sweep.results_]


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def test_sweep_on_two_dask_workers_gives_the_serial_results_and_sends_the_corpus_once_per_worker(client):
    corpus = CountingCorpus([Document(name, text) for name, text in TEXTS.items()])
    queries = [
        Query("q1", "feeding a sourdough starter", (Reference("bread.md", 0, 64),)),
        Query("q2", "what are pulsars", (Reference("stars.md", 0, 73),)),
    ]
    serial = Sweep(GRID, top_k=2).fit(corpus, queries)
    with on_dask(client, corpus, queries):
        clustered = Sweep(GRID, top_k=2, n_jobs=-1).fit(corpus, queries)
    assert comparable(clustered) == comparable(serial)
    loads = client.run(loads_in_this_process)  # {worker address: unpickled corpora}
    assert len(loads) == 2
    assert sum(loads.values()) <= 2 < len(serial.results_)  # once per worker at most, not once per task
