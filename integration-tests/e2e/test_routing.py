"""Weighted choice and health-based cool-down through real Envoy (two workers, so the
health state must live in shared data to be seen by both)."""

import json
import math
import time

import pytest

from harness import Envoy, Mock

COOLDOWN_MS = 1500
THRESHOLD = 2


@pytest.fixture(scope="module")
def duo():
    a, b = Mock("a"), Mock("b")
    cfg = {
        "providers": [
            {"name": "prov-a", "kind": "openai", "cluster": "cluster_a"},
            {"name": "prov-b", "kind": "anthropic", "cluster": "cluster_b", "api_key_env": "DEMO_ANTHROPIC_KEY"},
        ],
        "models": [
            {"name": "split", "targets": [{"provider": "prov-a", "model": "m-a", "weight": 80},
                                          {"provider": "prov-b", "model": "m-b", "weight": 20}]},
            {"name": "even", "targets": [{"provider": "prov-a", "model": "m-a2", "weight": 1},
                                         {"provider": "prov-b", "model": "m-b2", "weight": 1}]},
        ],
        "health": {"failure_threshold": THRESHOLD, "cooldown_ms": COOLDOWN_MS},
    }
    e = Envoy({"cluster_a": a, "cluster_b": b}, plugin_config=cfg, name="duo")
    yield e, a, b
    e.stop()
    a.stop()
    b.stop()


def ask(e, model):
    status, headers, body = e.chat({"model": model, "messages": [{"role": "user", "content": "hi"}]})
    return status, headers.get("x-llm-provider")


def test_weighted_split_80_20(duo):
    e, a, b = duo
    a.reset()
    b.reset()
    n = 400
    for _ in range(n):
        status, _ = ask(e, "split")
        assert status == 200
    got_b = len(b.requests())
    assert len(a.requests()) + got_b == n
    # Binomial(400, 0.2): mean 80, sd 8. A ±4.5 sd band fails by chance ~7 in a million runs.
    sd = math.sqrt(n * 0.2 * 0.8)
    assert abs(got_b - 80) <= 4.5 * sd, got_b


def test_failing_target_cools_down_and_comes_back(duo):
    e, a, b = duo
    a.reset()
    b.reset()
    a.default_fault({"status": 503})
    # Until A has failed THRESHOLD times, some requests still reach it (and fail).
    failures = 0
    for _ in range(200):
        status, provider = ask(e, "even")
        if provider == "prov-a":
            assert status == 503
            failures += 1
            if failures == THRESHOLD:
                break
        else:
            assert status == 200
    assert failures == THRESHOLD
    # Now A is cooling down: every request goes to B, on both workers.
    seen_a = len(a.requests())
    for _ in range(30):
        status, provider = ask(e, "even")
        assert (status, provider) == (200, "prov-b")
    assert len(a.requests()) == seen_a
    # A recovers; after the cool-down it gets traffic again (P(no A in 40) = 2^-40).
    a.default_fault(None)
    time.sleep(COOLDOWN_MS / 1000 + 0.3)
    providers = [ask(e, "even") for _ in range(40)]
    assert all(s == 200 for s, _ in providers)
    assert any(p == "prov-a" for _, p in providers)


def test_all_cooling_still_tries_soonest(duo):
    e, a, b = duo
    a.reset()
    b.reset()
    a.default_fault({"status": 500})
    b.default_fault({"status": 529})
    for _ in range(2 * THRESHOLD + 4):
        status, _ = ask(e, "even")
        assert status in (500, 503)
    before = len(a.requests()) + len(b.requests())
    # Both are cooling down: the request is still sent (to the one recovering first).
    status, provider = ask(e, "even")
    assert status in (500, 503) and provider in ("prov-a", "prov-b")
    assert len(a.requests()) + len(b.requests()) == before + 1
    a.default_fault(None)
    b.default_fault(None)
    time.sleep(COOLDOWN_MS / 1000 + 0.3)
