"""A real OpenAI-compatible /v1/embeddings server on 127.0.0.1 for the endpoint and hybrid tests.

Embeddings are deterministic: words hashed into DIMENSIONS buckets (a bag of words), so texts
sharing words are similar. The server records every request and can be scripted to answer the
next requests with an HTTP status, to check a key, to serve one model only, or to reply badly.
"""

from __future__ import annotations

import json
import threading
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

DIMENSIONS = 32
MODEL = "hashed-words"


def hashed_words(text: str, dimensions: int = DIMENSIONS) -> list[float]:
    vector = np.zeros(dimensions)
    for word in text.lower().replace("?", " ").replace(".", " ").split():
        vector[zlib.crc32(word.encode()) % dimensions] += 1.0
    return vector.tolist()


@dataclass
class Behaviour:
    """What the server does; tests change it before a request."""

    statuses: list[int] = field(default_factory=list)  # answer the next requests with these, one each
    api_key: str | None = None  # required Bearer key
    model: str = MODEL
    dimensions: int = DIMENSIONS
    reply: bytes | None = None  # a fixed (malformed) reply body
    hang: threading.Event | None = None  # wait for this before answering (a server that does not reply in time)
    requests: list[dict] = field(default_factory=list)


class EmbeddingServer:
    def __init__(self) -> None:
        self.behaviour = Behaviour()
        behaviour = self.behaviour

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: dict | bytes) -> None:
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self):
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                behaviour.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **payload})
                if behaviour.hang is not None:
                    behaviour.hang.wait(10)
                if behaviour.statuses:
                    status = behaviour.statuses.pop(0)
                    return self._send(status, {"error": {"message": f"scripted status {status}"}})
                if behaviour.api_key and self.headers.get("Authorization") != f"Bearer {behaviour.api_key}":
                    return self._send(401, {"error": {"message": "Incorrect API key provided"}})
                if payload.get("model") != behaviour.model:
                    return self._send(404, {"error": {"message": f"The model `{payload.get('model')}` does not exist."}})
                if behaviour.reply is not None:
                    return self._send(200, behaviour.reply)
                data = [{"object": "embedding", "index": i, "embedding": hashed_words(t, behaviour.dimensions)}
                        for i, t in enumerate(payload["input"])]
                self._send(200, {"object": "list", "data": data[::-1], "model": behaviour.model})  # out of order

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> EmbeddingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.behaviour.hang is not None:
            self.behaviour.hang.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
