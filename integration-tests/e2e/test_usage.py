"""Token counting: Envoy metrics (fed from the same numbers as the shared-data ledger)
equal what the mock providers reported, for plain and streaming answers, on two workers."""

import json
import time

import openai

from harness import Envoy


def sums(mock):
    p = c = 0
    for r in mock.requests():
        if r["usage"]:
            p += r["usage"]["prompt_tokens"]
            c += r["usage"]["completion_tokens"]
    return p, c


def test_counters_equal_what_providers_reported(gateway, oa, an):
    keys = [("claude-sonnet", "anthropic", "claude-sonnet-4-5"), ("gpt-4o-mini", "openai", "gpt-4o-mini")]
    names = ["llmgw_requests_total", "llmgw_prompt_tokens_total", "llmgw_completion_tokens_total", "llmgw_errors_total"]
    before = {(k, n): gateway.counter(n, *k) for k in keys for n in names}
    c = openai.OpenAI(base_url=gateway.base + "/v1", api_key="x", max_retries=0)
    for i in range(12):
        for model in ("claude-sonnet", "gpt-4o-mini"):
            msgs = [{"role": "user", "content": "count me " + "w " * i}]
            if i % 3 == 0:
                list(c.chat.completions.create(model=model, messages=msgs, stream=True))
            elif i % 3 == 1:
                list(c.chat.completions.create(model=model, messages=msgs, stream=True,
                                               stream_options={"include_usage": True}))
            else:
                c.chat.completions.create(model=model, messages=msgs)
    # one upstream error each: counted as a request and an error, no tokens
    an.faults([{"status": 500}])
    oa.faults([{"status": 500}])
    for model in ("claude-sonnet", "gpt-4o-mini"):
        status, _, _ = gateway.chat({"model": model, "messages": [{"role": "user", "content": "x"}]})
        assert status == 500
    for k, mock in zip(keys, (an, oa)):
        p, comp = sums(mock)
        delta = {n: gateway.counter(n, *k) - before[(k, n)] for n in names}
        assert delta == {"llmgw_requests_total": 13, "llmgw_prompt_tokens_total": p,
                         "llmgw_completion_tokens_total": comp, "llmgw_errors_total": 1}, k


def test_cut_stream_counts_tokens_seen_and_an_error(gateway, an):
    k = ("claude-sonnet", "anthropic", "claude-sonnet-4-5")
    before = {n: gateway.counter(n, *k) for n in ("llmgw_requests_total", "llmgw_prompt_tokens_total",
                                                  "llmgw_errors_total")}
    an.faults([{"cut_after_events": 3}])
    try:
        c = openai.OpenAI(base_url=gateway.base + "/v1", api_key="x", max_retries=0)
        list(c.chat.completions.create(model="claude-sonnet", stream=True,
                                       messages=[{"role": "user", "content": "a b c d"}]))
    except Exception:
        pass  # the client sees a broken stream (issue 5 turns it into an error event)
    [rec] = an.requests()
    after = {n: gateway.counter(n, *k) for n in before}
    assert after["llmgw_requests_total"] - before["llmgw_requests_total"] == 1
    assert after["llmgw_errors_total"] - before["llmgw_errors_total"] == 1
    # message_start (the first event) carried the prompt tokens
    assert after["llmgw_prompt_tokens_total"] - before["llmgw_prompt_tokens_total"] == rec["usage"]["prompt_tokens"]


def test_batched_usage_adds_up_across_workers_within_an_interval(mocks):
    """demo.yaml as shipped batches usage per worker (usage_flush_ms): counts arrive late
    but exact, also from a worker that goes quiet (its tick writes them)."""
    an = mocks["anthropic_mock"]
    an.reset()
    e = Envoy(mocks, name="batched", batched_usage=True)
    try:
        k = ("claude-sonnet", "anthropic", "claude-sonnet-4-5")
        names = ["llmgw_requests_total", "llmgw_prompt_tokens_total", "llmgw_completion_tokens_total"]
        c = openai.OpenAI(base_url=e.base + "/v1", api_key="x", max_retries=0)
        for i in range(10):
            c.chat.completions.create(model="claude-sonnet",
                                      messages=[{"role": "user", "content": "batch " + "w " * i}])
        p, comp = sums(an)
        want = {"llmgw_requests_total": 10, "llmgw_prompt_tokens_total": p,
                "llmgw_completion_tokens_total": comp}
        deadline = time.time() + 5
        while True:
            got = {n: e.counter(n, *k) for n in names}
            if got == want or time.time() > deadline:
                break
            time.sleep(0.1)
        assert got == want
    finally:
        e.stop()
