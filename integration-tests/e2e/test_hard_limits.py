"""Limits and charges that a second model name or a broken upstream must not get
around, through real Envoy with two workers."""

import hashlib
import json
import time

import openai
import pytest

from harness import Envoy, Mock, http

APP, ADMIN = "sk-hard-app", "sk-hard-admin"
PRICE = 100_000.0  # USD per million tokens: 0.1 USD per token
BUDGET = 5.0
MAX = 2**64 - 1


def sha(k):
    return hashlib.sha256(k.encode()).hexdigest()


@pytest.fixture(scope="module")
def gw():
    mock = Mock("hard")
    cfg = {
        "providers": [{"name": "p", "kind": "openai", "cluster": "c"}],
        "models": [
            {"name": "fast", "targets": [{"provider": "p", "model": "up-fast"}], "rpm": 2},
            {"name": "priced", "targets": [{"provider": "p", "model": "up-priced"}]},
        ],
        "allow_provider_model": True,
        "prices": [{"model": "up-priced", "input": PRICE, "output": PRICE}],
        "access": {"keys": [
            {"name": "app", "sha256": sha(APP), "budget_usd": BUDGET, "budget_period": "day"},
            {"name": "admin", "sha256": sha(ADMIN), "admin": True},
        ]},
    }
    e = Envoy({"c": mock}, plugin_config=cfg, name="hard-limits")
    yield e, mock
    e.stop()
    mock.stop()


def client(e):
    return openai.OpenAI(base_url=e.base + "/v1", api_key=APP, max_retries=0)


def ask(c, model):
    return c.chat.completions.create(model=model, messages=[{"role": "user", "content": "hello"}])


def test_a_model_limit_holds_for_the_provider_model_name(gw):
    e, mock = gw
    if time.time() % 60 > 45:  # rate windows are whole UTC minutes: stay inside one
        time.sleep(60 - time.time() % 60 + 0.2)
    mock.reset()
    c = client(e)
    ask(c, "fast")
    ask(c, "p/up-fast")
    # rpm 2 is spent, whichever name reaches p's up-fast.
    for name in ["p/up-fast", "fast", "p/UP-FAST"]:
        with pytest.raises(openai.RateLimitError) as refused:
            ask(c, name)
        assert refused.value.body["code"] == "rate_limit_exceeded"
    assert len(mock.requests()) == 2
    # Another upstream model is not covered.
    ask(c, "p/up-other")


def test_implausible_usage_is_refused_not_charged(gw):
    e, mock = gw
    mock.reset()
    huge = {"id": "x", "object": "chat.completion", "created": 1, "model": "up-priced",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "hi"}}],
            "usage": {"prompt_tokens": MAX, "completion_tokens": MAX, "total_tokens": MAX}}
    mock.faults([{"body": json.dumps(huge)}])
    before = app_day(e)
    c = client(e)
    ask(c, "priced")
    labels = ("priced", "p", "up-priced")
    assert e.counter("llmgw_errors_total", *labels, error_type="implausible_usage") == 1
    assert e.counter("llmgw_prompt_tokens_total", *labels) < 100
    assert e.counter("llmgw_completion_tokens_total", *labels) == 0
    assert "refused implausible usage from provider p model up-priced" in e.log()
    day = app_day(e)
    # Charged like an answer without usage: the prompt estimate, nothing else.
    assert day["requests"] == before["requests"] + 1 and day["errors"] == before["errors"] + 1
    assert day["prompt_tokens"] - before["prompt_tokens"] < 100
    assert day["completion_tokens"] == before["completion_tokens"]
    assert day["cost_usd"] < BUDGET
    # The key's budget is not spent: it goes on, charged what the provider really reports.
    r = ask(c, "priced")
    assert r.usage.prompt_tokens < 100
    after = app_day(e)
    assert after["prompt_tokens"] == day["prompt_tokens"] + r.usage.prompt_tokens
    assert after["completion_tokens"] == day["completion_tokens"] + r.usage.completion_tokens


def app_day(e):
    status, _, body = http("GET", e.base + "/v1/usage", headers={"authorization": f"Bearer {ADMIN}"})
    assert status == 200, body
    return json.loads(body)["keys"]["app"]["day"]
