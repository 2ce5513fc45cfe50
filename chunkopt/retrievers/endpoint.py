"""The `endpoint` retriever: embeddings from any OpenAI-compatible `/v1/embeddings` server, cosine.

A local vLLM, TEI, Ollama or llama.cpp server, or a hosted one: `base_url` (up to and including
`/v1`) and `model` are parameters, or come from $CHUNKOPT_ENDPOINT_URL and
$CHUNKOPT_ENDPOINT_MODEL. The API key is read only from the environment variable named by
`api_key_env` (default $CHUNKOPT_ENDPOINT_API_KEY) at request time, so it is never part of
the parameters and never reaches results, journals or the tuned JSON.

Texts are sent `batch_size` at a time; a reply of HTTP 429 or 5xx, or no reply within `timeout_s`
seconds, is retried up to `retries` times, waiting `backoff_s` * 2^attempt seconds (or the
server's Retry-After, if shorter than a minute). Everything else that goes wrong is one
EndpointError line naming the URL: a refused connection, a wrong model, a bad key, a malformed
reply, vectors of the wrong size. Only the standard library is used (urllib).
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.request
from typing import Any

import numpy as np

from chunkopt.retrievers.dense import DenseRetriever, dense_params
from strategies.base import Param, ParameterError

URL_VARIABLE = "CHUNKOPT_ENDPOINT_URL"
MODEL_VARIABLE = "CHUNKOPT_ENDPOINT_MODEL"
KEY_VARIABLE = "CHUNKOPT_ENDPOINT_API_KEY"
MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After falls back to the exponential backoff


class EndpointError(ParameterError):
    """The embeddings server could not be used: refused, timed out, rejected the key or model, or replied wrongly."""


class EndpointRetriever(DenseRetriever):
    """Cosine similarity of embeddings served over HTTP by an OpenAI-compatible server."""

    name = "endpoint"
    description = "embeddings from an OpenAI-compatible /v1/embeddings server, cosine"
    schema = dense_params(
        Param("base_url", str, None, f"server URL up to /v1, e.g. http://127.0.0.1:8000/v1 (default ${URL_VARIABLE})",
              nullable=True),
        Param("model", str, None, f"model name the server embeds with (default ${MODEL_VARIABLE})", nullable=True),
        Param("api_key_env", str, KEY_VARIABLE, "environment variable holding the API key (unset: no key sent)"),
        Param("batch_size", int, 64, "texts sent per request", minimum=1),
        Param("timeout_s", float, 60.0, "seconds to wait for one reply", minimum=0.001, unit="seconds"),
        Param("retries", int, 4, "retries of a request answered 429 or 5xx, or not answered in time", minimum=0),
        Param("backoff_s", float, 1.0, "seconds before the first retry, doubled each time", minimum=0.0, unit="seconds"),
        Param("dimensions", int, None, "expected vector length (checked; None: whatever the first reply has)",
              minimum=1, nullable=True),
    )

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        for name, variable in (("base_url", URL_VARIABLE), ("model", MODEL_VARIABLE)):
            if self._params[name] is None:
                self._params[name] = os.environ.get(variable) or None
            if not self._params[name]:
                raise ParameterError(f"endpoint: {name} is not set: give {name}=... or set ${variable}")
        self._dimensions: int | None = self._params["dimensions"]

    @property
    def url(self) -> str:
        """Where embeddings are requested: base_url + /embeddings (base_url may already end with it)."""
        base = self._params["base_url"].rstrip("/")
        return base if base.endswith("/embeddings") else f"{base}/embeddings"

    def model_identity(self) -> str:
        return f"endpoint:{self.url}:{self._params['model']}"

    def _encode(self, texts: list[str]) -> np.ndarray:
        size = self._params["batch_size"]
        return np.concatenate([self._request(texts[i : i + size]) for i in range(0, len(texts), size)])

    def _request(self, batch: list[str]) -> np.ndarray:
        body = json.dumps({"model": self._params["model"], "input": batch, "encoding_format": "float"}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self._params["api_key_env"])
        if key:
            headers["Authorization"] = f"Bearer {key}"
        for attempt in range(self._params["retries"] + 1):
            last = attempt == self._params["retries"]
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self._params["timeout_s"]) as reply:
                    return self._vectors(reply.read(), len(batch))
            except urllib.error.HTTPError as exc:
                message = _error_message(exc)
                if (exc.code == 429 or exc.code >= 500) and not last:
                    self._wait(attempt, exc.headers.get("Retry-After"))
                    continue
                raise self._http_error(exc.code, message, attempt) from None
            except (socket.timeout, TimeoutError) as exc:
                if not last:
                    self._wait(attempt, None)
                    continue
                raise EndpointError(f"endpoint: no reply from {self.url} within {self._params['timeout_s']:g} s "
                                    f"({attempt + 1} tries): {exc}") from None
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, (socket.timeout, TimeoutError)) and not last:
                    self._wait(attempt, None)
                    continue
                if isinstance(exc.reason, ConnectionRefusedError):
                    raise EndpointError(f"endpoint: connection refused by {self.url}: is the server running?") from None
                raise EndpointError(f"endpoint: cannot reach {self.url}: {exc.reason}") from None
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        delay = self._params["backoff_s"] * 2**attempt
        try:
            if retry_after is not None and 0 <= float(retry_after) <= MAX_RETRY_AFTER:
                delay = float(retry_after)  # the server knows when it will have room
        except ValueError:
            pass  # an HTTP date: the exponential backoff will do
        time.sleep(delay)

    def _http_error(self, code: int, message: str, attempt: int) -> EndpointError:
        where = f"{self.url} (HTTP {code}: {message})"
        if code in (401, 403):
            variable = self._params["api_key_env"]
            given = "was refused" if os.environ.get(variable) else "is missing"
            return EndpointError(f"endpoint: the API key from ${variable} {given} at {where}")
        if code in (400, 404, 422) and "model" in message.lower():
            return EndpointError(f"endpoint: model {self._params['model']!r} is not served at {where}")
        tries = f" after {attempt + 1} tries" if attempt else ""
        return EndpointError(f"endpoint: request failed{tries} at {where}")

    def _vectors(self, raw: bytes, expected: int) -> np.ndarray:
        """The reply's embeddings in input order, checked: one per text, numbers, all of the expected length."""
        try:
            data = json.loads(raw)["data"]
            rows = sorted(data, key=lambda item: item["index"]) if all("index" in d for d in data) else data
            vectors = [item["embedding"] for item in rows]
            if len(vectors) != expected:
                raise ValueError(f"{len(vectors)} embeddings for {expected} texts")
            if not vectors or not all(isinstance(v, list) and v for v in vectors):
                raise ValueError("an embedding that is not a non-empty list of numbers")
            lengths = {len(v) for v in vectors}
            if len(lengths) > 1:
                raise ValueError(f"embeddings of different lengths {sorted(lengths)}")
            array = np.asarray(vectors, dtype=np.float32)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise EndpointError(f"endpoint: malformed reply from {self.url}: {exc}; expected "
                                '{"data": [{"index": 0, "embedding": [numbers]}, ...]}') from None
        if self._dimensions is None:
            self._dimensions = array.shape[1]
        elif array.shape[1] != self._dimensions:
            raise EndpointError(f"endpoint: model {self._params['model']!r} at {self.url} returned vectors of "
                                f"{array.shape[1]} dimensions, expected {self._dimensions}")
        return array


def _error_message(exc: urllib.error.HTTPError) -> str:
    """The server's own words for an HTTP error: the JSON `error.message` or `message`, else the body's start."""
    try:
        raw = exc.read().decode("utf-8", "replace")
    except OSError:
        return exc.reason or ""
    try:
        body = json.loads(raw)
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        if message:
            return " ".join(str(message).split())
    except (ValueError, AttributeError):
        pass
    return " ".join(raw.split())[:200] or str(exc.reason)
