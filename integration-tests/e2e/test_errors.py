"""Bad input and bad upstreams through real Envoy: the right status, the OpenAI error
shape, nothing reaches the provider when the client is at fault, and the VM survives."""

import json
import socket

import pytest

from harness import http

GOOD = {"model": "claude-sonnet", "messages": [{"role": "user", "content": "hi"}]}


def error_of(body):
    e = json.loads(body)["error"]
    assert set(e) == {"message", "type", "param", "code"}, e
    return e


CLIENT_ERRORS = [
    ("invalid json", b'{"model": "claude-sonnet", "messages": [', 400, None),
    ("not an object", b'[1,2]', 400, None),
    ("messages wrong type", {"model": "claude-sonnet", "messages": "hi"}, 400, None),
    ("model wrong type", {"model": 5, "messages": [{"role": "user", "content": "x"}]}, 400, None),
    ("model missing", {"messages": [{"role": "user", "content": "x"}]}, 400, None),
    ("empty messages", {"model": "claude-sonnet", "messages": []}, 400, "messages"),
    ("unknown role", {"model": "claude-sonnet", "messages": [{"role": "wizard", "content": "x"}]}, 400, None),
    ("content wrong type", {"model": "claude-sonnet", "messages": [{"role": "user", "content": 42}]}, 400, None),
    ("temperature wrong type", dict(GOOD, temperature="hot"), 400, None),
    ("unknown model", dict(GOOD, model="gpt-17"), 404, "model"),
    ("unknown provider/model", dict(GOOD, model="nope/x"), 404, "model"),
    ("bad tool arguments", {"model": "claude-sonnet", "messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "tool_calls": [{"id": "a", "type": "function",
                                              "function": {"name": "f", "arguments": "{not json"}}]}]},
     400, "messages[1].tool_calls[0].function.arguments"),
    ("bad image url", {"model": "claude-sonnet", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}]}]}, 400, "messages[0].content[0].image_url.url"),
    ("bad tool_choice", dict(GOOD, tool_choice="sometimes", tools=[{"type": "function", "function": {"name": "f"}}]),
     400, "tool_choice"),
    ("n > 1 to anthropic", dict(GOOD, n=2), 400, "n"),
]


@pytest.mark.parametrize("name,body,status,param", CLIENT_ERRORS, ids=[c[0] for c in CLIENT_ERRORS])
def test_client_errors(gateway, an, oa, name, body, status, param):
    got, headers, resp = gateway.chat(body)
    assert got == status, resp
    e = error_of(resp)
    if param is not None:
        assert e["param"] == param
    assert an.requests() == [] and oa.requests() == [], "bad input must not reach a provider"


def test_method_path_and_empty_body(gateway):
    status, _, body = http("GET", gateway.base + "/v1/chat/completions")
    assert status == 405 and error_of(body)["code"] == "method_not_allowed"
    status, _, body = http("POST", gateway.base + "/v1/nothing-here", b"{}")
    assert status == 404 and error_of(body)["code"] == "unknown_url"
    status, _, body = http("POST", gateway.base + "/v1/chat/completions", b"", {"content-length": "0"})
    assert status == 400


def raw_exchange(gateway, head, body_parts):
    """Send a request over a raw socket, then read the answer (a write that fails is
    ignored, so an answer sent early is still read if it arrived)."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as s:
        s.sendall(head)
        try:
            for part in body_parts:
                s.sendall(part)
        except OSError:
            pass
        data = b""
        try:
            while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + _length(data):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def _length(data):
    for line in data.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def test_body_over_limit_is_413_by_content_length(gateway, an):
    # The gateway reads (and drops) the whole body before it answers: see test_edges.
    head = (b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n" % (9 * 1024 * 1024))
    status, body = raw_exchange(gateway, head, [b"x" * (1024 * 1024)] * 9)
    assert status == 413 and error_of(body)["code"] == "request_too_large"
    assert an.requests() == []


def test_body_over_limit_is_413_when_chunked(gateway, an):
    head = (b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"transfer-encoding: chunked\r\n\r\n")
    piece = b"x" * (1024 * 1024)
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(10)] + [b"0\r\n\r\n"]
    status, body = raw_exchange(gateway, head, chunks)
    assert status == 413 and error_of(body)["code"] == "request_too_large"
    assert an.requests() == []


def test_large_prompt_under_limit_passes(gateway, an):
    text = "word " * (1024 * 1024)  # 5 MiB: above Envoy's default 1 MiB buffer
    status, _, body = gateway.chat({"model": "claude-sonnet", "messages": [{"role": "user", "content": text}]})
    assert status == 200, body[:300]
    assert json.loads(body)["usage"]["prompt_tokens"] == an.requests()[0]["usage"]["prompt_tokens"]


def test_hostile_headers(gateway, oa, an):
    # A client cannot pick the cluster, and a non-UTF-8 header value does not crash the VM.
    status, headers, body = gateway.chat(
        dict(GOOD, model="gpt-4o-mini"),
        {"x-llm-cluster": "anthropic_mock", "x-weird": "caf\xe9".encode("latin-1").decode("latin-1"),
         "x-api-key": "client-key", "api-key": "client-key-2"},
    )
    assert status == 200, body
    assert headers["x-llm-provider"] == "openai"
    assert an.requests() == []
    [rec] = oa.requests()
    assert "client-key" not in json.dumps(rec["headers"])


UPSTREAM = [
    # (mock, fault, client status, error type)
    ("anthropic", {"status": 529}, 503, "overloaded_error"),
    ("anthropic", {"status": 500}, 500, "api_error"),
    ("anthropic", {"status": 429}, 429, "rate_limit_error"),
    ("anthropic", {"status": 400}, 400, "invalid_request_error"),
    ("anthropic", {"status": 200, "body": "this is not json"}, 502, "api_error"),
    ("anthropic", {"status": 200, "body": '{"id":"x"}'}, 502, "api_error"),
    ("anthropic", {"reset": True}, 503, "api_error"),
    ("openai", {"status": 503}, 503, "api_error"),
    ("openai", {"status": 401}, 401, "invalid_request_error"),
    ("openai", {"status": 200, "body": "<html>"}, 502, "api_error"),
]


@pytest.mark.parametrize("which,fault,status,kind", UPSTREAM, ids=[f"{u[0]}-{json.dumps(u[1])}" for u in UPSTREAM])
def test_upstream_errors_become_openai_errors(gateway, mocks, which, fault, status, kind):
    mock = mocks[f"{which}_mock"]
    mock.reset()
    mock.faults([fault])
    model = "claude-sonnet" if which == "anthropic" else "gpt-4o-mini"
    got, headers, body = gateway.chat(dict(GOOD, model=model))
    assert got == status, body
    e = error_of(body)
    assert e["type"] == kind
    assert "sk-" not in body.decode()
    assert headers["x-llm-provider"] == which
    # and the gateway still works afterwards
    mock.reset()
    assert gateway.chat(dict(GOOD, model=model))[0] == 200


def test_no_vm_crash_logged(gateway):
    log = gateway.log()
    assert "panicked" not in log and "wasm trap" not in log.lower(), log[-2000:]
