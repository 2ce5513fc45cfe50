"""The LLM generator against a real HTTP server on 127.0.0.1 that answers deterministically."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from chunkopt.cli import main
from chunkopt.corpus import Corpus, Document
from chunkopt.querygen.llm import LLMError, generate_llm_queries
from strategies.base import ParameterError

PARAGRAPHS = [
    "The harbour of Lindqvist was dredged in 1911 so that steamers could dock at the northern quay. "
    "Fishermen complained that the dredging drove the herring shoals further out into the sound.",
    "The observatory on Mount Kessel houses a refracting telescope with a lens of sixty centimetres. "
    "Its astronomers catalogued more than four thousand variable stars between the two world wars.",
    "Bakers in the old town proof their sourdough overnight in cellars that stay cool all summer long. "
    "The guild that regulated their trade kept its ledgers in the town hall until the great fire.",
]
CORPUS = Corpus([Document(f"doc{i}.txt", p) for i, p in enumerate(PARAGRAPHS)])
PASSAGE = re.compile(r"Passage (\d+):\n<<<\n(.*?)\n>>>", re.DOTALL)


def first_words(passage: str, n: int = 6) -> str:
    return " ".join(passage.split()[:n])


class Endpoint:
    """A chat-completions server whose replies come from `reply(request_json, call_number)`."""

    def __init__(self, reply):
        self.reply, self.requests, self.release = reply, [], threading.Event()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                status, payload, headers = endpoint.reply(body, len(endpoint.requests))
                if status is None:  # hang until the test ends: the client must time out
                    endpoint.release.wait(10)
                    return
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def chat(content: str) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": content}}]}


def passages_of(body: dict) -> list[tuple[int, str]]:
    return [(int(n), text) for n, text in PASSAGE.findall(body["messages"][-1]["content"])]


def well_formed(body, call):
    items = [{"passage": n, "question": f"What about {first_words(t, 2)}?", "reference": first_words(t)}
             for n, t in passages_of(body)]
    return 200, chat(json.dumps({"questions": items})), {}


def generate(endpoint, **kwargs):
    kwargs = {"n": 3, "seed": 0, "backoff_s": 0.0, "timeout_s": 5.0, **kwargs}
    return generate_llm_queries(CORPUS, endpoint.url, "test-model", **kwargs)


def test_well_formed_replies_become_queries_whose_references_slice_to_the_quote():
    with Endpoint(well_formed) as endpoint:
        queries = generate(endpoint)
    assert len(queries) == 3
    for query in queries:
        (ref,) = query.references
        assert CORPUS[ref.doc].text[ref.start : ref.end] == first_words(CORPUS[ref.doc].text)
        assert ref.start == 0


def test_requests_go_to_chat_completions_with_the_model_and_no_key_when_unset(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with Endpoint(well_formed) as endpoint:
        generate(endpoint)
    (request,) = endpoint.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["model"] == "test-model"
    assert request["auth"] is None


def test_the_key_comes_from_the_named_environment_variable_and_is_not_recorded(monkeypatch):
    monkeypatch.setenv("MY_LLM_KEY", "sk-secret-123")
    with Endpoint(well_formed) as endpoint:
        queries = generate(endpoint, api_key_env="MY_LLM_KEY")
    assert endpoint.requests[0]["auth"] == "Bearer sk-secret-123"
    assert "sk-secret-123" not in json.dumps(queries.generator_info)


def test_passages_are_sent_in_batches():
    with Endpoint(well_formed) as endpoint:
        queries = generate(endpoint, batch_size=2)
    assert [len(passages_of(r["body"])) for r in endpoint.requests] == [2, 1]
    assert len(queries) == 3


def test_a_quote_differing_only_in_whitespace_is_found_and_mapped_to_the_document():
    def spaced(body, call):
        items = [{"passage": n, "question": "Q?", "reference": first_words(t).replace(" ", "\n  ")}
                 for n, t in passages_of(body)]
        return 200, chat(json.dumps({"questions": items})), {}

    with Endpoint(spaced) as endpoint:
        queries = generate(endpoint)
    ref = queries[0].references[0]
    assert CORPUS[ref.doc].text[ref.start : ref.end] == first_words(CORPUS[ref.doc].text)


def test_hallucinated_quotes_are_dropped_and_counted():
    def hallucinating(body, call):
        items = [{"passage": n, "question": "Q?", "reference": first_words(t) if n == 1 else "words nowhere in it"}
                 for n, t in passages_of(body)]
        return 200, chat(json.dumps({"questions": items})), {}

    with Endpoint(hallucinating) as endpoint:
        queries = generate(endpoint)
    assert len(queries) == 1
    assert queries.generator_info["dropped"] == {"not_found": 2, "malformed": 0}
    assert queries.generator_info["asked"] == 3 and queries.generator_info["kept"] == 1


def test_a_reply_that_is_not_json_drops_its_whole_batch_as_malformed():
    with Endpoint(lambda body, call: (200, chat("Sure! Here are some questions: 1. What?"), {})) as endpoint:
        queries = generate(endpoint)
    assert len(queries) == 0
    assert queries.generator_info["dropped"] == {"not_found": 0, "malformed": 3}


def test_json_in_a_code_fence_is_read_and_bad_items_are_malformed():
    def fenced(body, call):
        items = [{"passage": 1, "question": "Q?", "reference": first_words(passages_of(body)[0][1])},
                 {"passage": 2, "question": "", "reference": "x"}, {"passage": "3"}]
        return 200, chat("```json\n" + json.dumps({"questions": items}) + "\n```"), {}

    with Endpoint(fenced) as endpoint:
        queries = generate(endpoint)
    assert len(queries) == 1
    assert queries.generator_info["dropped"] == {"not_found": 0, "malformed": 2}


def test_429_and_500_are_retried_then_succeed():
    def flaky(body, call):
        if call == 1:
            return 429, {"error": {"message": "slow down"}}, {"Retry-After": "0"}
        if call == 2:
            return 503, b"busy", {}
        return well_formed(body, call)

    waits = []
    with Endpoint(flaky) as endpoint:
        queries = generate(endpoint, backoff_s=0.5, sleep=waits.append)
    assert len(endpoint.requests) == 3
    assert waits == [0.0, 1.0]  # Retry-After: 0, then 0.5 x 2^1
    assert len(queries) == 3


def test_persistent_5xx_is_an_error_after_the_retries():
    with Endpoint(lambda body, call: (500, {"error": {"message": "model crashed"}}, {})) as endpoint:
        with pytest.raises(LLMError, match="HTTP 500: model crashed"):
            generate(endpoint, retries=2)
    assert len(endpoint.requests) == 3


def test_401_is_not_retried_and_names_the_key():
    with Endpoint(lambda body, call: (401, {"error": {"message": "invalid api key"}}, {})) as endpoint:
        with pytest.raises(LLMError, match="HTTP 401 \\(check the API key's environment variable\\): invalid api key"):
            generate(endpoint)
    assert len(endpoint.requests) == 1


def test_a_reply_not_shaped_like_chat_completions_is_an_error():
    with Endpoint(lambda body, call: (200, {"result": "ok"}, {})) as endpoint:
        with pytest.raises(LLMError, match=r"expected choices\[0\].message.content"):
            generate(endpoint)


def test_a_server_that_does_not_answer_times_out():
    with Endpoint(lambda body, call: (None, None, None)) as endpoint:
        with pytest.raises(LLMError, match="timed out after 0.2 s, 1 attempt"):
            generate(endpoint, timeout_s=0.2, retries=0)


def test_a_refused_connection_is_an_error_naming_the_url():
    with Endpoint(well_formed) as endpoint:
        url = endpoint.url
    with pytest.raises(LLMError, match=re.escape(f"{url}/chat/completions could not be reached")):
        generate_llm_queries(CORPUS, url, "m", n=1, retries=1, backoff_s=0.0)


def test_a_url_that_is_not_http_is_a_parameter_error():
    with pytest.raises(ParameterError, match="must be an http\\(s\\) URL"):
        generate_llm_queries(CORPUS, "localhost:8000", "m")


def test_the_same_seed_asks_about_the_same_passages():
    with Endpoint(well_formed) as endpoint:
        generate(endpoint, n=2, seed=4)
        generate(endpoint, n=2, seed=4)
    first, second = (passages_of(r["body"]) for r in endpoint.requests)
    assert first == second


def test_cli_writes_the_kept_queries_and_reports_what_was_dropped(tmp_path, monkeypatch):
    for i, paragraph in enumerate(PARAGRAPHS):
        (tmp_path / f"doc{i}.txt").write_text(paragraph, encoding="utf-8")

    def half_hallucinated(body, call):
        items = [{"passage": n, "question": "Q?", "reference": first_words(t) if n % 2 else "not there"}
                 for n, t in passages_of(body)]
        return 200, chat(json.dumps({"questions": items})), {}

    with Endpoint(half_hallucinated) as endpoint:
        result = CliRunner().invoke(main, ["queries", str(tmp_path), "--n", "3", "--llm", endpoint.url, "--model", "m"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2
    assert "2 of 3 kept; dropped 1 whose reference is not in the passage, 0 malformed" in result.stderr


def test_cli_endpoint_failure_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "doc.txt").write_text(PARAGRAPHS[0], encoding="utf-8")
    with Endpoint(lambda body, call: (404, {"error": {"message": "no such model"}}, {})) as endpoint:
        result = CliRunner().invoke(main, ["queries", str(tmp_path), "--llm", endpoint.url, "--model", "m"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [f"Error: {endpoint.url}/chat/completions answered HTTP 404: no such model"]


def test_cli_llm_without_model_is_a_usage_error(tmp_path):
    (tmp_path / "doc.txt").write_text(PARAGRAPHS[0], encoding="utf-8")
    result = CliRunner().invoke(main, ["queries", str(tmp_path), "--llm", "http://127.0.0.1:9/v1"])
    assert result.exit_code == 2 and "--llm needs --model NAME" in result.output


def test_the_recorded_url_has_no_credentials_or_query_string():
    from chunkopt.querygen.llm import _endpoint, _public

    assert _public(_endpoint("https://user:pw@llm.example:8443/v1?key=abc")) == "https://llm.example:8443/v1/chat/completions"
    assert _public(_endpoint("http://[::1]:8000/v1/")) == "http://[::1]:8000/v1/chat/completions"


def test_a_reply_cut_short_is_retried():
    def cut_short(body, call):
        if call == 1:
            return 200, b'{"choices": [', {"Content-Length": "999"}
        return well_formed(body, call)

    with Endpoint(cut_short) as endpoint:
        queries = generate(endpoint)
    assert len(endpoint.requests) == 2 and len(queries) == 3
