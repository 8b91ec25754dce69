"""Routing strategies through real Envoy. Each test would fail with a plain weighted pick."""

import time

import pytest

from harness import Envoy, Mock


@pytest.fixture(scope="module")
def gw():
    a, b = Mock("s-a"), Mock("s-b")
    targets = [{"provider": "pa", "model": "ma"}, {"provider": "pb", "model": "mb"}]
    cfg = {
        "providers": [{"name": "pa", "kind": "openai", "cluster": "ca"},
                      {"name": "pb", "kind": "openai", "cluster": "cb"}],
        "models": [
            # weights favour B 1000:1, yet ordered always takes A while it is healthy
            {"name": "ordered", "strategy": "ordered",
             "targets": [dict(targets[0], weight=1), dict(targets[1], weight=1000)]},
            {"name": "fastest", "strategy": "lowest_latency", "targets": targets},
            {"name": "sticky-header", "strategy": "sticky", "sticky_header": "x-session-id", "targets": targets},
            {"name": "sticky-prefix", "strategy": "sticky", "targets": targets},
            # A is preferred 1000:1 but only holds 60 tokens
            {"name": "context", "strategy": "context_window",
             "targets": [dict(targets[0], weight=1000, context_window=60),
                         dict(targets[1], weight=1, context_window=100000)]},
        ],
        "health": {"failure_threshold": 1, "cooldown_ms": 60000},
    }
    e = Envoy({"ca": a, "cb": b}, plugin_config=cfg, name="strategies")
    yield e, a, b
    e.stop()
    a.stop()
    b.stop()


def ask(e, model, content="hi", headers=None, system=None, **extra):
    msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": content}]
    body = dict({"model": model, "messages": msgs}, **extra)
    status, h, _ = e.chat(body, headers)
    assert status == 200
    return h["x-llm-provider"]


def test_ordered_takes_the_first_healthy_target(gw):
    e, a, b = gw
    assert {ask(e, "ordered") for _ in range(20)} == {"pa"}


def test_lowest_latency_prefers_the_fast_target(gw):
    e, a, b = gw
    a.default_fault({"delay_ms": 150})
    try:
        seen = [ask(e, "fastest") for _ in range(20)]
    finally:
        a.default_fault(None)
    # both get measured once (two workers may each explore), then B wins every time
    assert seen.count("pa") <= 2, seen
    assert seen[-10:] == ["pb"] * 10


def test_sticky_sessions_stay_put_and_spread(gw):
    e, a, b = gw
    homes = {}
    for s in range(12):
        got = {ask(e, "sticky-header", headers={"x-session-id": f"user-{s}"}) for _ in range(5)}
        assert len(got) == 1, (s, got)
        homes[s] = got.pop()
    assert set(homes.values()) == {"pa", "pb"}, homes
    # prompt-prefix affinity: the same system prompt (what a prompt cache reuses), the same
    # target, whatever the question
    prefix_homes = set()
    for p in range(12):
        system = f"You are assistant number {p}. " * 20
        got = {ask(e, "sticky-prefix", system=system, content=f"question {q}") for q in range(4)}
        assert len(got) == 1, (p, got)
        prefix_homes |= got
    assert prefix_homes == {"pa", "pb"}


def test_context_window_skips_targets_too_small(gw):
    e, a, b = gw
    small = [ask(e, "context", content="short", max_tokens=10) for _ in range(10)]
    assert small.count("pa") >= 8  # 1000:1 when both fit
    big = [ask(e, "context", content="word " * 200, max_tokens=10) for _ in range(10)]
    assert big == ["pb"] * 10
    status, _, body = e.chat({"model": "context", "max_tokens": 10,
                              "messages": [{"role": "user", "content": "w " * 500_000}]})
    assert status == 400 and b"context window" in body
