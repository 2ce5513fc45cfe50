"""The endpoint retriever against a real OpenAI-compatible server on 127.0.0.1: batching, retries, each error."""

import socket
import threading

import numpy as np
import pytest

from chunkopt.retrievers import dense, get_retriever
from chunkopt.retrievers.endpoint import EndpointError
from embedding_server import DIMENSIONS, MODEL, EmbeddingServer, hashed_words
from strategies.base import ParameterError

TEXTS = [
    "late fees are capped at five percent",
    "refunds are paid within ten days",
    "the api key rotates every month",
    "support answers within one hour",
    "invoices are sent on the first day",
]


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(dense, "_memory", {})  # every test asks the server afresh
    with EmbeddingServer() as running:
        yield running


def endpoint(server, **params):
    return get_retriever("endpoint", base_url=server.base_url, model=MODEL, backoff_s=0.0, cache=False, **params)


def test_vectors_are_the_servers_in_input_order(server):
    retriever = endpoint(server).fit(TEXTS)
    expected = np.array([hashed_words(t) for t in TEXTS])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(retriever.vectors, expected, rtol=1e-6)
    assert retriever.search(["when are refunds paid"], k=1)[0].tolist() == [[1]]


def test_texts_are_sent_batch_size_at_a_time(server):
    endpoint(server, batch_size=2).fit(TEXTS)
    assert [len(r["input"]) for r in server.behaviour.requests] == [2, 2, 1]
    assert {r["path"] for r in server.behaviour.requests} == {"/v1/embeddings"}


def test_base_url_and_model_come_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("CHUNKOPT_ENDPOINT_URL", server.base_url)
    monkeypatch.setenv("CHUNKOPT_ENDPOINT_MODEL", MODEL)
    retriever = get_retriever("endpoint", cache=False)
    assert retriever.params["base_url"] == server.base_url and retriever.params["model"] == MODEL
    assert retriever.fit(TEXTS).n_texts == 5


def test_without_a_base_url_the_error_names_the_variable(monkeypatch):
    monkeypatch.delenv("CHUNKOPT_ENDPOINT_URL", raising=False)
    with pytest.raises(ParameterError, match=r"endpoint: base_url is not set: give base_url=... or set \$CHUNKOPT_ENDPOINT_URL"):
        get_retriever("endpoint", model=MODEL)


def test_a_base_url_with_credentials_is_refused_so_they_are_never_recorded():
    with pytest.raises(ParameterError, match=r"endpoint: base_url must not carry a user, password or query string"):
        get_retriever("endpoint", base_url="http://me:sk-secret@127.0.0.1:9/v1", model=MODEL)


def test_a_base_url_that_is_not_http_is_refused():
    with pytest.raises(ParameterError, match=r"endpoint: base_url must be an http\(s\) URL .* got '127.0.0.1:8000'"):
        get_retriever("endpoint", base_url="127.0.0.1:8000", model=MODEL)


def test_the_key_is_sent_from_the_environment_and_never_kept_in_the_parameters(server, monkeypatch):
    server.behaviour.api_key = "sk-secret"
    monkeypatch.setenv("CHUNKOPT_ENDPOINT_API_KEY", "sk-secret")
    retriever = endpoint(server).fit(TEXTS[:1])
    assert server.behaviour.requests[0]["auth"] == "Bearer sk-secret"
    assert "sk-secret" not in repr(retriever.params) and "sk-secret" not in retriever.model_identity()


def test_429_and_5xx_are_retried(server):
    server.behaviour.statuses = [429, 503, 500]
    retriever = endpoint(server, retries=3).fit(TEXTS)
    assert len(server.behaviour.requests) == 4 and retriever.n_texts == 5


def test_retries_run_out_with_the_last_status_named(server):
    server.behaviour.statuses = [503, 503, 503]
    with pytest.raises(EndpointError, match=r"endpoint: request failed after 3 tries at http://127.0.0.1:\d+/v1/embeddings "
                                            r"\(HTTP 503: scripted status 503\)"):
        endpoint(server, retries=2).fit(TEXTS)
    assert len(server.behaviour.requests) == 3


def test_a_client_error_is_not_retried(server):
    server.behaviour.statuses = [413]
    with pytest.raises(EndpointError, match=r"request failed at .*\(HTTP 413: scripted status 413\)"):
        endpoint(server).fit(TEXTS)
    assert len(server.behaviour.requests) == 1


def test_a_refused_connection_is_one_clear_error():
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    retriever = get_retriever("endpoint", base_url=f"http://127.0.0.1:{port}/v1", model=MODEL, cache=False)
    with pytest.raises(EndpointError, match=rf"endpoint: connection refused by http://127.0.0.1:{port}/v1/embeddings: is the server running\?"):
        retriever.fit(TEXTS)


def test_a_server_that_does_not_answer_in_time_is_a_timeout(server):
    server.behaviour.hang = threading.Event()
    with pytest.raises(EndpointError, match=r"endpoint: no reply from .* within 0.2 s \(2 tries\)"):
        endpoint(server, timeout_s=0.2, retries=1).fit(TEXTS)


def test_a_wrong_model_is_named(server):
    with pytest.raises(EndpointError, match=r"endpoint: model 'nomic-embed' is not served at .*\(HTTP 404: The model `nomic-embed` does not exist.\)"):
        get_retriever("endpoint", base_url=server.base_url, model="nomic-embed", cache=False).fit(TEXTS)


def test_a_bad_key_names_its_variable(server, monkeypatch):
    server.behaviour.api_key = "sk-right"
    monkeypatch.setenv("CHUNKOPT_ENDPOINT_API_KEY", "sk-wrong")
    with pytest.raises(EndpointError, match=r"the API key from \$CHUNKOPT_ENDPOINT_API_KEY was refused at .*\(HTTP 401: Incorrect API key provided\)"):
        endpoint(server).fit(TEXTS)


def test_a_missing_key_says_it_is_missing(server, monkeypatch):
    server.behaviour.api_key = "sk-right"
    monkeypatch.delenv("CHUNKOPT_ENDPOINT_API_KEY", raising=False)
    with pytest.raises(EndpointError, match=r"the API key from \$CHUNKOPT_ENDPOINT_API_KEY is missing"):
        endpoint(server).fit(TEXTS)


@pytest.mark.parametrize("reply, problem", [
    (b"<html>gateway</html>", "Expecting value"),
    (b'{"object": "list"}', "'data'"),
    (b'{"data": [{"index": 0, "embedding": [1.0, 2.0]}]}', "1 embeddings for 5 texts"),
    (b'{"data": [{"index": 0, "embedding": "abc"}, {"index": 1, "embedding": [1]}, {"index": 2, "embedding": [1]},'
     b' {"index": 3, "embedding": [1]}, {"index": 4, "embedding": [1]}]}', "not a non-empty list of numbers"),
])
def test_a_malformed_reply_is_named(server, reply, problem):
    server.behaviour.reply = reply
    with pytest.raises(EndpointError, match=r"endpoint: malformed reply from http://127.0.0.1:\d+/v1/embeddings: .*" + problem):
        endpoint(server).fit(TEXTS)


def test_vectors_of_the_wrong_size_are_refused(server):
    server.behaviour.dimensions = 8
    with pytest.raises(EndpointError, match=rf"model '{MODEL}' at .* returned vectors of 8 dimensions, expected {DIMENSIONS}"):
        endpoint(server, dimensions=DIMENSIONS).fit(TEXTS)


def test_vectors_that_change_size_between_batches_are_refused(server):
    retriever = endpoint(server, batch_size=5).fit(TEXTS)
    server.behaviour.dimensions = 16
    with pytest.raises(EndpointError, match=rf"returned vectors of 16 dimensions, expected {DIMENSIONS}"):
        retriever.search(["a query never embedded"], k=1)


def test_cached_embeddings_are_not_requested_again(server, tmp_path, monkeypatch):
    from chunkopt.retrievers import cache

    monkeypatch.setattr(cache, "cache_folder", lambda: tmp_path)
    monkeypatch.setattr(dense, "_stores", {})
    get_retriever("endpoint", base_url=server.base_url, model=MODEL).fit(TEXTS)
    monkeypatch.setattr(dense, "_memory", {})
    second = get_retriever("endpoint", base_url=server.base_url, model=MODEL).fit(TEXTS)
    assert len(server.behaviour.requests) == 1
    assert second.fit_summary() == {"chunks_embedded": 0, "chunks_cached": 5}
