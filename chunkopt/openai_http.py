"""One JSON POST to an OpenAI-compatible API, retried: shared by the LLM query generator and the `endpoint` retriever.

Standard library only (urllib). A reply of HTTP 429 or 5xx, or no reply within `timeout_s`
seconds, is retried up to `retries` times, waiting `backoff_s` x 2^attempt seconds (or the
server's Retry-After), at most MAX_BACKOFF_S; with `retry_unreachable` a refused or failed
connection is retried too. What still fails is an HTTPFailure that says which kind of failure
it was, so each caller words its own one-line error. The API key goes only into the
Authorization header: never into a URL, an error or a record (`public` strips credentials).
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable

MAX_BACKOFF_S = 60.0


class HTTPFailure(Exception):
    """A request that failed for good. `kind`: "http" (with `code` and the server's `detail`), "timeout" or "unreachable"."""

    def __init__(self, kind: str, attempts: int, code: int | None = None, detail: str = "") -> None:
        super().__init__(f"{kind} {code or ''} {detail}".strip())
        self.kind, self.attempts, self.code, self.detail = kind, attempts, code, detail


def api_url(url: str, path: str) -> str:
    """`url` (up to /v1) with `path` (e.g. "/embeddings") appended unless it already ends with it; ValueError if not http(s)."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"must be an http(s) URL of an OpenAI-compatible API, like http://localhost:8000/v1, got {url!r}")
    base = parsed.path.rstrip("/")
    return urllib.parse.urlunparse(parsed._replace(path=base if base.endswith(path) else base + path))


def public(url: str) -> str:
    """The URL without user, password or query string, safe to record or print."""
    parsed = urllib.parse.urlparse(url)
    host = f"[{parsed.hostname}]" if ":" in (parsed.hostname or "") else parsed.hostname or ""
    netloc = host + (f":{parsed.port}" if parsed.port else "")
    return urllib.parse.urlunparse(parsed._replace(netloc=netloc, query="", params="", fragment=""))


def post_json(
    url: str,
    payload: dict[str, Any],
    *,
    key: str | None,
    timeout_s: float,
    retries: int,
    backoff_s: float,
    retry_unreachable: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes:
    """The body of the reply to POSTing `payload` as JSON to `url`, after up to `retries` retries."""
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    attempt = 0
    while True:
        last = attempt == retries
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as reply:
                return reply.read()
        except urllib.error.HTTPError as err:
            if (err.code == 429 or err.code >= 500) and not last:
                sleep(_wait(err.headers.get("Retry-After"), backoff_s, attempt))
                attempt += 1
                continue
            raise HTTPFailure("http", attempt + 1, err.code, error_detail(err)) from None
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as err:
            reason = getattr(err, "reason", err)
            timed_out = isinstance(reason, TimeoutError)  # socket.timeout is TimeoutError since Python 3.10
            if (timed_out or retry_unreachable) and not last:
                sleep(_wait(None, backoff_s, attempt))
                attempt += 1
                continue
            kind = "timeout" if timed_out else "refused" if isinstance(reason, ConnectionRefusedError) else "unreachable"
            raise HTTPFailure(kind, attempt + 1, detail=str(reason)) from None


def error_detail(err: urllib.error.HTTPError) -> str:
    """The server's own words for an HTTP error: the JSON `error.message` (or `message`), else the body's start."""
    try:
        raw = err.read()[:300]
    except OSError:
        return str(err.reason)
    try:
        body = json.loads(raw)
        error = body.get("error", body) if isinstance(body, dict) else body
        message = error.get("message") if isinstance(error, dict) else error
    except ValueError:
        message = raw.decode("utf-8", "replace")
    return " ".join(str(message or "").split()) or str(err.reason)


def _wait(retry_after: Any, backoff_s: float, attempt: int) -> float:
    try:
        return min(MAX_BACKOFF_S, max(0.0, float(retry_after)))
    except (TypeError, ValueError):
        return min(MAX_BACKOFF_S, backoff_s * 2**attempt)
