"""The shared OpenAI-compatible POST: which failures are retried, and what a failure says (against a real local server)."""

import socket

import pytest

from chunkopt.openai_http import HTTPFailure, api_url, post_json, public
from embedding_server import EmbeddingServer


@pytest.fixture
def server():
    with EmbeddingServer() as running:
        yield running


def post(url, **options):
    waits = []
    settings = {"key": None, "timeout_s": 5.0, "retries": 2, "backoff_s": 0.5, "sleep": waits.append, **options}
    return post_json(url, {"model": "hashed-words", "input": ["a"]}, **settings), waits


def test_backoff_doubles_between_retries(server):
    server.behaviour.statuses = [503, 429]
    reply, waits = post(server.base_url + "/embeddings")
    assert b'"embedding"' in reply and waits == [0.5, 1.0]


def test_the_last_failure_carries_the_status_and_the_servers_words(server):
    server.behaviour.statuses = [500, 500, 500]
    with pytest.raises(HTTPFailure) as failure:
        post(server.base_url + "/embeddings")
    assert (failure.value.kind, failure.value.code, failure.value.attempts) == ("http", 500, 3)
    assert failure.value.detail == "scripted status 500"


def test_a_refused_connection_is_retried_only_when_asked():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/v1/embeddings"
    with pytest.raises(HTTPFailure) as once:
        post(url)
    with pytest.raises(HTTPFailure) as retried:
        post(url, retry_unreachable=True)
    assert (once.value.kind, once.value.attempts) == ("refused", 1)
    assert (retried.value.kind, retried.value.attempts) == ("refused", 3)


def test_urls_get_the_api_path_once_and_lose_their_credentials():
    assert api_url("http://127.0.0.1:8000/v1/", "/embeddings") == "http://127.0.0.1:8000/v1/embeddings"
    assert api_url("http://127.0.0.1:8000/v1/embeddings", "/embeddings") == "http://127.0.0.1:8000/v1/embeddings"
    assert public("https://user:pw@host.example:8443/v1/embeddings?key=abc") == "https://host.example:8443/v1/embeddings"
    with pytest.raises(ValueError, match="must be an http\\(s\\) URL"):
        api_url("ftp://host/v1", "/embeddings")
