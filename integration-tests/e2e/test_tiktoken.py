"""The tiktoken build: tables are built on the root context's first tick (never on a
request), and then estimates are exact tiktoken counts."""

import json
import time

import pytest

from harness import ROOT, Envoy, Mock

TIKTOKEN_WASM = ROOT / "target" / "wasm32-wasip1" / "release" / "llm_gateway_tiktoken.wasm"

# An OpenAI-shaped answer without usage: the gateway has to estimate.
NO_USAGE = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "gpt-4o",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                                    "finish_reason": "stop"}]})


def gateway(estimator, mock, name):
    cfg = {"providers": [{"name": "oa", "kind": "openai", "cluster": "c"}],
           "models": [{"name": "gpt-4o", "targets": [{"provider": "oa", "model": "gpt-4o"}]}],
           "token_estimator": estimator}
    return Envoy({"c": mock}, plugin_config=cfg, name=name, wasm=TIKTOKEN_WASM)


@pytest.fixture(scope="module")
def mock():
    m = Mock("tik")
    yield m
    m.stop()


def estimated_prompt(e, mock, content):
    mock.faults([{"status": 200, "body": NO_USAGE}])
    status, _, _ = e.chat({"model": "gpt-4o", "messages": [{"role": "user", "content": content}]})
    assert status == 200
    for _ in range(50):
        lines = [l for l in e.access_log().splitlines() if "usage=estimated" in l]
        if lines:
            return int(lines[-1].split("prompt_tokens=")[1].split()[0])
        time.sleep(0.2)
    raise AssertionError(e.access_log())


def test_tiktoken_estimates_after_tables_are_built(mock):
    e = gateway("tiktoken", mock, "tiktoken")
    try:
        for _ in range(100):
            if "tiktoken tables ready" in e.log():
                break
            time.sleep(0.1)
        assert "tiktoken tables ready" in e.log(), e.log()[-2000:]
        # "hello world" is 2 tokens in o200k; 3 per message and 3 to prime the answer
        assert estimated_prompt(e, mock, "hello world") == 8
    finally:
        e.stop()


def test_same_build_with_the_cheap_estimator(mock):
    e = gateway("cheap", mock, "tiktoken-cheap")
    try:
        assert "tiktoken tables" not in e.log()
        # ceil(11 chars / 4) + 4 per message
        assert estimated_prompt(e, mock, "hello world") == 7
    finally:
        e.stop()
