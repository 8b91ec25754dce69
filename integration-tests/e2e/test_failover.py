"""Failover inside one request through real Envoy: the gateway position resolves the model
to a virtual-model cluster, Envoy retries on the next priority, and the per-attempt filter
translates each attempt for the provider of the endpoint Envoy picked."""

import json
import time

import openai
import pytest

from harness import ROOT, Envoy, Mock

CONFIG = ROOT / "envoy-config" / "failover.yaml"


def no_ejection(doc):
    # Tests fail the primary many times on purpose; outlier ejection would turn later
    # cases into single attempts. The shipped config keeps it on.
    for c in doc["static_resources"]["clusters"]:
        if "outlier_detection" in c:
            c["outlier_detection"]["enforcing_consecutive_5xx"] = 0
    vh = doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"][
        "route_config"]["virtual_hosts"][0]
    vh["routes"][0]["route"]["retry_policy"]["per_try_timeout"] = "1s"


@pytest.fixture(scope="module")
def fo():
    oa, an = Mock("fo-openai"), Mock("fo-anthropic")
    e = Envoy(config_file=CONFIG, ports={18081: oa, 18082: an}, edit=no_ejection, name="failover")
    yield e, oa, an
    e.stop()
    oa.stop()
    an.stop()


def client(e):
    return openai.OpenAI(base_url=e.base + "/v1", api_key="sk-client", max_retries=0)


def reset(*mocks):
    for m in mocks:
        m.reset()


def test_healthy_primary_serves_alone(fo):
    e, oa, an = fo
    reset(oa, an)
    r = client(e).chat.completions.with_raw_response.create(
        model="smart-failover", messages=[{"role": "user", "content": "hi"}])
    assert r.headers["x-llm-provider"] == "openai"
    assert r.headers["x-envoy-attempt-count"] == "1"
    assert r.parse().choices[0].message.content == "mock fo-openai says: hi"
    [rec] = oa.requests()
    assert json.loads(rec["body"])["model"] == "gpt-4o"
    assert rec["headers"]["authorization"] == "Bearer sk-demo-openai"
    assert an.requests() == []


FAULTS = [{"status": 503}, {"status": 500}, {"status": 429}, {"reset": True}, {"delay_ms": 2500}]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("fault", FAULTS, ids=[json.dumps(f) for f in FAULTS])
def test_openai_primary_fails_anthropic_serves(fo, fault, stream):
    e, oa, an = fo
    reset(oa, an)
    oa.faults([fault])
    before = e.counter("llmgw_fallbacks_total", "smart-failover", "anthropic", "claude-sonnet-4-5")
    c = client(e)
    msgs = [{"role": "user", "content": "fall back please"}]
    if stream:
        chunks = list(c.chat.completions.create(model="smart-failover", messages=msgs, stream=True))
        text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
        assert not any(ch.usage for ch in chunks), "usage chunk hidden from a client that did not ask"
    else:
        r = c.chat.completions.with_raw_response.create(model="smart-failover", messages=msgs)
        assert r.headers["x-llm-provider"] == "anthropic"
        assert r.headers["x-envoy-attempt-count"] == "2"
        text = r.parse().choices[0].message.content
    assert text == "mock fo-anthropic says: fall back please"
    [first] = oa.requests()
    assert json.loads(first["body"])["model"] == "gpt-4o"
    [second] = an.requests()
    body = json.loads(second["body"])
    assert body["model"] == "claude-sonnet-4-5" and body["max_tokens"] == 4096
    assert second["path"] == "/v1/messages"
    # the first attempt's credentials did not carry over to the second provider
    assert "authorization" not in second["headers"]
    assert second["headers"]["x-api-key"] == "sk-ant-demo"
    after = e.counter("llmgw_fallbacks_total", "smart-failover", "anthropic", "claude-sonnet-4-5")
    assert after == before + 1


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_anthropic_529_is_normalised_and_openai_serves(fo, stream):
    e, oa, an = fo
    reset(oa, an)
    an.faults([{"status": 529}])
    c = client(e)
    msgs = [{"role": "user", "content": "overloaded?"}]
    if stream:
        chunks = list(c.chat.completions.create(model="claude-failover", messages=msgs, stream=True,
                                                stream_options={"include_usage": True}))
        text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
        [usage] = [ch.usage for ch in chunks if ch.usage]
        assert usage.prompt_tokens == oa.requests()[0]["usage"]["prompt_tokens"]
    else:
        text = c.chat.completions.create(model="claude-failover", messages=msgs).choices[0].message.content
    assert text == "mock fo-openai says: overloaded?"
    assert [r["status"] for r in an.requests()] == [529]
    assert len(oa.requests()) == 1


def test_both_fail_client_gets_openai_error(fo):
    e, oa, an = fo
    reset(oa, an)
    oa.default_fault({"status": 503})
    an.default_fault({"status": 529})
    try:
        status, headers, body = e.chat({"model": "smart-failover",
                                         "messages": [{"role": "user", "content": "x"}]})
    finally:
        oa.default_fault(None)
        an.default_fault(None)
    assert status == 503
    err = json.loads(body)["error"]
    assert set(err) == {"message", "type", "param", "code"}
    # every endpoint was tried (num_retries 2: three attempts over two endpoints)
    assert len(oa.requests()) >= 1 and len(an.requests()) >= 1
    assert len(oa.requests()) + len(an.requests()) == 3
    assert headers["x-envoy-attempt-count"] == "3"


def test_access_log_shows_two_attempts_and_who_served(fo):
    e, oa, an = fo
    reset(oa, an)
    oa.faults([{"status": 503}])
    status, _, _ = e.chat({"model": "smart-failover", "messages": [{"role": "user", "content": "log me"}]})
    assert status == 200
    want = "attempts=2"
    for _ in range(50):
        lines = [l for l in e.access_log().splitlines() if want in l and "provider=anthropic" in l]
        if lines:
            break
        time.sleep(0.2)
    assert lines, e.access_log()[-2000:]
    assert "model=claude-sonnet-4-5" in lines[-1]
    [rec] = an.requests()
    assert f"prompt_tokens={rec['usage']['prompt_tokens']}" in lines[-1]


def test_mid_stream_provider_error_ends_with_error_event(fo):
    """Bytes already went to the client, so Envoy cannot retry: the client gets an OpenAI
    error event and a clean end of stream, and the tokens so far are accounted."""
    e, oa, an = fo
    reset(oa, an)
    an.faults([{"error_after_events": 5}])
    before = e.counter("llmgw_errors_total", "claude-failover", "anthropic", "claude-sonnet-4-5")
    status, _, body = e.chat({"model": "claude-failover", "stream": True,
                              "messages": [{"role": "user", "content": "a b c d e f g"}]})
    assert status == 200
    events = [l for l in body.decode().split("\n\n") if l.strip()]
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[-2].removeprefix("data: "))["error"]["type"] == "overloaded_error"
    after = e.counter("llmgw_errors_total", "claude-failover", "anthropic", "claude-sonnet-4-5")
    assert after == before + 1
    assert oa.requests() == []
