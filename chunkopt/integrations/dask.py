"""Running a sweep on a Dask cluster, the corpus and queries sent to each worker once.

    from dask.distributed import Client
    from chunkopt.integrations.dask import on_dask

    client = Client("tcp://scheduler:8786")          # or Client(LocalCluster(n_workers=2))
    with on_dask(client, corpus, queries):
        sweep = Sweep(grid, n_jobs=-1).fit(corpus, queries)

The sweep hands each configuration to joblib, and joblib's Dask backend submits it as a task.
Without `scatter`, every task would carry the whole corpus (pickled again for each
configuration); here the corpus and the queries are scattered to the cluster first, and each
task refers to them, so they cross the network once per worker. Needs the `dask` extra
(`pip install 'chunkopt[dask]'`). Results are the same as a serial sweep's, apart from timings.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

from chunkopt.corpus import Corpus
from chunkopt.queries import Query


@contextlib.contextmanager
def on_dask(client: Any, corpus: Corpus, queries: Sequence[Query]) -> Iterator[None]:
    """Within the block, `Sweep(..., n_jobs=-1).fit(corpus, queries)` runs on `client`'s cluster.

    Pass the very objects given to `fit`: joblib recognises scattered arguments by identity.
    """
    try:
        import distributed  # noqa: F401  (joblib's Dask backend needs it)
        from joblib import parallel_config
    except ImportError as exc:
        raise ImportError("running on Dask needs the dask extra: pip install 'chunkopt[dask]'") from exc
    with parallel_config(backend="dask", client=client, scatter=[corpus, queries]):
        yield
