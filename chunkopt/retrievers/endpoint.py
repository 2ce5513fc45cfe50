"""The `endpoint` retriever: embeddings from any OpenAI-compatible `/v1/embeddings` server, cosine.

A local vLLM, TEI, Ollama or llama.cpp server, or a hosted one: `base_url` (up to and including
`/v1`) and `model` are parameters, or come from $CHUNKOPT_ENDPOINT_URL and
$CHUNKOPT_ENDPOINT_MODEL. The API key is read only from the environment variable named by
`api_key_env` (default $CHUNKOPT_ENDPOINT_API_KEY) at request time, so it is never part of
the parameters and never reaches results, journals or the tuned JSON.

Texts are sent `batch_size` at a time; a reply of HTTP 429 or 5xx, or no reply within `timeout_s`
seconds, is retried up to `retries` times, waiting `backoff_s` * 2^attempt seconds (or the
server's Retry-After, at most a minute; chunkopt.openai_http, shared with the LLM query
generator). Everything else that goes wrong is one EndpointError line naming the URL: a refused
connection, a wrong model, a bad key, a malformed reply, vectors of the wrong size.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from chunkopt.openai_http import HTTPFailure, api_url, post_json, public
from chunkopt.retrievers.dense import DenseRetriever, dense_params
from strategies.base import Param, ParameterError

URL_VARIABLE = "CHUNKOPT_ENDPOINT_URL"
MODEL_VARIABLE = "CHUNKOPT_ENDPOINT_MODEL"
KEY_VARIABLE = "CHUNKOPT_ENDPOINT_API_KEY"


class EndpointError(RuntimeError):
    """The embeddings server could not be used: refused, timed out, rejected the key or model, or replied wrongly.

    A failure during the run (exit code 1 in the CLI), not a usage error: the same command may work once the server does.
    """


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
        try:
            self._url = api_url(self._params["base_url"], "/embeddings")
        except ValueError as exc:
            raise ParameterError(f"endpoint: base_url {exc}") from None
        if public(self._url) != self._url:
            raise ParameterError(f"endpoint: base_url must not carry a user, password or query string "
                                 f"(they would be recorded with the results); put the key in ${self._params['api_key_env']}")
        self._dimensions: int | None = self._params["dimensions"]

    @property
    def url(self) -> str:
        """Where embeddings are requested: base_url + /embeddings (unless it ends with it); never carries credentials."""
        return self._url

    def model_identity(self) -> str:
        return f"endpoint:{self.url}:{self._params['model']}"

    def _encode(self, texts: list[str]) -> np.ndarray:
        size = self._params["batch_size"]
        return np.concatenate([self._request(texts[i : i + size]) for i in range(0, len(texts), size)])

    def _request(self, batch: list[str]) -> np.ndarray:
        payload = {"model": self._params["model"], "input": batch, "encoding_format": "float"}
        try:
            raw = post_json(self._url, payload, key=os.environ.get(self._params["api_key_env"]),
                            timeout_s=self._params["timeout_s"], retries=self._params["retries"],
                            backoff_s=self._params["backoff_s"])
        except HTTPFailure as failure:
            raise self._error(failure) from None
        return self._vectors(raw, len(batch))

    def _error(self, failure: HTTPFailure) -> EndpointError:
        """One line saying what went wrong at which URL (credentials stripped) and what to do."""
        url, tries = self.url, f"{failure.attempts} tries" if failure.attempts > 1 else ""
        if failure.kind == "refused":
            return EndpointError(f"endpoint: connection refused by {url}: is the server running?")
        if failure.kind == "timeout":
            waited = f"{self._params['timeout_s']:g} s" + (f" ({tries})" if tries else "")
            return EndpointError(f"endpoint: no reply from {url} within {waited}")
        if failure.kind == "unreachable":
            return EndpointError(f"endpoint: cannot reach {url}: {failure.detail}")
        where = f"{url} (HTTP {failure.code}: {failure.detail})"
        if failure.code in (401, 403):
            variable = self._params["api_key_env"]
            given = "was refused" if os.environ.get(variable) else "is missing"
            return EndpointError(f"endpoint: the API key from ${variable} {given} at {where}")
        if failure.code in (400, 404, 422) and "model" in failure.detail.lower():
            return EndpointError(f"endpoint: model {self._params['model']!r} is not served at {where}")
        return EndpointError(f"endpoint: request failed{f' after {tries}' if tries else ''} at {where}")

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
