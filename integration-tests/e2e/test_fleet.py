"""Fleet mode through real parts: two Envoys (two workers each) with the filter, one
llm-store adapter and Debian's redis-server, all on loopback. Limits and budgets hold
fleet-wide, the ledger equals what the mock served, and a store outage gets the
configured policy without hanging anything."""

import datetime
import hashlib
import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

from fleet_harness import STORE, Redis, Store
from harness import Envoy, Mock, http

KEYS = {name: f"sk-fleet-{name}-secret" for name in
        ("rpm", "tpm", "blue1", "blue2", "exact", "lim", "admin")}
RPM = 6
TPM = 200
MAX_TOKENS = 30
# USD per million tokens: 0.1 USD a token, so a request costs a few USD.
PRICE = 100_000.0
TEAM_BUDGET = 5.0
FLUSH_MS = 50


def sha(k):
    return hashlib.sha256(k.encode()).hexdigest()


def config(failure="fail_open"):
    return {
        "providers": [{"name": "p", "kind": "openai", "cluster": "c"}],
        "models": [{"name": "m", "targets": [{"provider": "p", "model": "up-m"}]}],
        "prices": [{"model": "up-m", "input": PRICE, "output": PRICE}],
        "access": {
            "teams": [{"name": "blue", "budget_usd": TEAM_BUDGET, "budget_period": "day"}],
            "keys": [
                {"name": "rpm", "sha256": sha(KEYS["rpm"]), "rpm": RPM},
                {"name": "tpm", "sha256": sha(KEYS["tpm"]), "tpm": TPM},
                {"name": "blue1", "sha256": sha(KEYS["blue1"]), "team": "blue"},
                {"name": "blue2", "sha256": sha(KEYS["blue2"]), "team": "blue"},
                {"name": "exact", "sha256": sha(KEYS["exact"]), "rpm": 100_000},
                {"name": "lim", "sha256": sha(KEYS["lim"]), "rpm": 100_000},
                {"name": "admin", "sha256": sha(KEYS["admin"]), "admin": True},
            ],
        },
        "fleet": {"cluster": "llm_store", "timeout_ms": 500, "flush_ms": FLUSH_MS, "failure": failure},
    }


def short_connect(doc):
    for c in doc["static_resources"]["clusters"]:
        if c["name"] == "llm_store":
            c["connect_timeout"] = "0.25s"


def start_envoy(mock, store, name, failure="fail_open"):
    return Envoy({"c": mock, "llm_store": store}, plugin_config=config(failure), name=name,
                 edit=short_connect)


@pytest.fixture(scope="module")
def fleet():
    redis = Redis()
    store = Store(redis)
    mock = Mock("fleet")
    a = start_envoy(mock, store, "fleet-a")
    b = start_envoy(mock, store, "fleet-b")
    env = {"redis": redis, "store": store, "mock": mock, "a": a, "b": b}
    yield env
    for p in (env["a"], env["b"], mock, store, env["redis"]):
        p.stop()


def chat(e, key, content="hello fleet", **extra):
    body = dict({"model": "m", "messages": [{"role": "user", "content": content}],
                 "max_tokens": MAX_TOKENS}, **extra)
    status, headers, raw = e.chat(body, {"authorization": f"Bearer {KEYS[key]}"})
    return status, headers, json.loads(raw)


def stream_usage(e, key):
    """A streamed request through the official SDK: its final usage chunk."""
    client = openai.OpenAI(base_url=e.base + "/v1", api_key=KEYS[key], max_retries=0)
    usage = None
    for ch in client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "stream to the fleet"}], stream=True,
            max_tokens=MAX_TOKENS, stream_options={"include_usage": True}):
        if ch.usage:
            usage = ch.usage
    return usage.prompt_tokens, usage.completion_tokens


def fresh_window():
    """Rate windows are whole UTC minutes: start a burst well inside one."""
    s = time.time() % 60
    if s > 40:
        time.sleep(60 - s + 0.2)
    return int(time.time() // 60)


def redis_cli(redis, *args):
    out = subprocess.run(["redis-cli", "-p", str(redis.port), *args], capture_output=True, text=True,
                         timeout=10)
    return out.stdout.strip()


def settle():
    """Reports leave each worker every FLUSH_MS: wait a few intervals."""
    time.sleep(FLUSH_MS * 6 / 1000)


def today():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def degraded(e, policy):
    return sum(v for (n, ls), v in e.stats().items()
               if n == "llmgw_store_degraded_total" and ("reason", policy) in ls)


def test_rpm_holds_fleet_wide(fleet):
    fresh_window()
    a, b = fleet["a"], fleet["b"]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: chat(a if i % 2 else b, "rpm"), range(16)))
    statuses = [r[0] for r in results]
    # Admission is one atomic script in Redis: exact, whichever Envoy and worker.
    assert statuses.count(200) == RPM, statuses
    assert statuses.count(429) == 16 - RPM, statuses
    refused = next(r for r in results if r[0] == 429)
    assert refused[2]["error"]["type"] == "rate_limit_error"
    assert refused[1]["x-ratelimit-limit-requests"] == str(RPM)
    assert refused[1]["x-ratelimit-remaining-requests"] == "0"


def test_tpm_holds_fleet_wide_within_the_bound(fleet):
    window = fresh_window()
    a, b = fleet["a"], fleet["b"]

    def one(i):
        e = a if i % 2 else b
        if i % 3 == 0:
            try:
                return 200, stream_usage(e, "tpm")
            except openai.RateLimitError:
                return 429, None
        status, _, body = chat(e, "tpm")
        return status, ((body["usage"]["prompt_tokens"], body["usage"]["completion_tokens"])
                        if status == 200 else None)

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(one, range(30)))
    admitted = [u for s, u in results if s == 200]
    # 30 requests use well over TPM even if reconciled one by one: refusals whatever the timing.
    assert len(admitted) >= 1 and any(s == 429 for s, _ in results), results
    used = sum(p + c for p, c in admitted)
    # The bound: a window admits while under its limit, reserving each request's
    # estimate (prompt + max_tokens, at least what it uses here): at most one request over.
    biggest = max(p + c for p, c in admitted)
    assert used <= TPM + biggest, (used, admitted)
    settle()
    # Reconciled to the provider's usage, streams included: the window holds exactly it.
    tokens = redis_cli(fleet["redis"], "HGET", f"{{llmgw}}:rate:{window}:key:tpm", "tokens")
    requests = redis_cli(fleet["redis"], "HGET", f"{{llmgw}}:rate:{window}:key:tpm", "requests")
    assert int(tokens) == used, (tokens, used)
    assert int(requests) == len(admitted)


def test_team_budget_reached_on_one_replica_refuses_on_the_other(fleet):
    a, b = fleet["a"], fleet["b"]
    spent = 0
    for _ in range(20):
        status, _, body = chat(a, "blue1")
        if status != 200:
            break
        spent += 1
        settle()  # the spend reaches the store
    assert status == 429 and body["error"]["code"] == "budget_exceeded", body
    assert spent >= 1
    status, headers, body = chat(b, "blue2")
    assert status == 429 and body["error"]["code"] == "budget_exceeded", body
    assert "team budget" in body["error"]["message"]
    assert int(headers["retry-after"]) > 0


def test_ledger_equals_what_the_mock_served(fleet):
    a, b, mock, store = fleet["a"], fleet["b"], fleet["mock"], fleet["store"]
    mock.reset()

    def one(i):
        e = a if i % 2 else b
        if i % 4 == 0:
            return stream_usage(e, "exact")
        status, _, body = chat(e, "exact", content="count me " + "x " * i)
        assert status == 200, body
        return body["usage"]["prompt_tokens"], body["usage"]["completion_tokens"]

    with ThreadPoolExecutor(6) as pool:
        usages = list(pool.map(one, range(24)))
    settle()
    served = mock.requests()
    assert len(served) == 24
    prompt = sum(p for p, _ in usages)
    completion = sum(c for _, c in usages)
    day, month = store.spend([f"spend:day:{today()}:key:exact", f"spend:month:{today()[:7]}:key:exact"])
    for row in (day, month):
        assert row["requests"] == 24
        assert row["prompt_tokens"] == prompt
        assert row["completion_tokens"] == completion
        assert row["cost_nano_usd"] == (prompt + completion) * 100_000_000
        assert row["errors"] == 0


def usage(e):
    status, _, body = http("GET", e.base + "/v1/usage",
                           headers={"authorization": f"Bearer {KEYS['admin']}"})
    assert status == 200, body
    return json.loads(body)


def test_usage_is_fleet_wide_and_survives_restarts(fleet):
    a, b = fleet["a"], fleet["b"]
    before = usage(a)["keys"]["exact"]
    assert before["month"]["requests"] >= 24  # the ledger test's
    assert chat(a, "exact")[0] == 200 and chat(b, "exact")[0] == 200
    settle()
    seen_a, seen_b = usage(a), usage(b)
    # Both replicas report the fleet's figures, in local mode's shape.
    assert seen_a == seen_b
    assert seen_a["keys"]["exact"]["month"]["requests"] == before["month"]["requests"] + 2
    assert seen_a["keys"]["blue1"]["team"] == "blue"
    assert seen_a["teams"]["blue"]["day"]["cost_usd"] >= TEAM_BUDGET
    # Restart one Envoy, then both: spend and budgets stay.
    a.stop()
    fleet["a"] = a = start_envoy(fleet["mock"], fleet["store"], "fleet-a2")
    assert usage(a) == seen_a
    a.stop()
    b.stop()
    fleet["a"] = a = start_envoy(fleet["mock"], fleet["store"], "fleet-a3")
    fleet["b"] = b = start_envoy(fleet["mock"], fleet["store"], "fleet-b3")
    assert usage(a) == seen_a and usage(b) == seen_a
    status, _, body = chat(b, "blue2")
    assert status == 429 and body["error"]["code"] == "budget_exceeded", body
    # A non-admin key reads nothing.
    status, _, _ = http("GET", a.base + "/v1/usage", headers={"authorization": f"Bearer {KEYS['exact']}"})
    assert status == 403


def key_cli(fleet, *args):
    """llm-store's key command against the test's Redis."""
    out = subprocess.run([str(STORE), "key", *args, "--redis", f"redis://127.0.0.1:{fleet['redis'].port}/"],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_runtime_keys_added_and_revoked_on_both_replicas(fleet):
    a, b = fleet["a"], fleet["b"]
    runtime = "sk-runtime-" + os.urandom(8).hex()
    other = "sk-runtime-" + os.urandom(8).hex()

    def call(e, key):
        body = {"model": "m", "messages": [{"role": "user", "content": "runtime"}], "max_tokens": MAX_TOKENS}
        status, _, raw = e.chat(body, {"authorization": f"Bearer {key}"})
        return status, json.loads(raw)

    assert call(a, runtime)[0] == 401 and call(b, runtime)[0] == 401
    fresh_window()
    key_cli(fleet, "add", "--name", "rt", "--key", runtime, "--rpm", "3", "--models", "m")
    key_cli(fleet, "add", "--name", "rt-other", "--key", other, "--models", "not-m")
    assert "rt" in key_cli(fleet, "list")
    # Every admission reads the store: effective at once, fleet-wide, with its own limit.
    statuses = [call(e, runtime)[0] for e in (a, b, a, b)]
    assert statuses == [200, 200, 200, 429], statuses
    status, body = call(b, other)
    assert status == 403 and body["error"]["code"] == "model_not_allowed", body
    key_cli(fleet, "revoke", "--key", runtime)
    status, body = call(a, runtime)
    assert status == 401 and body["error"]["code"] == "invalid_api_key", body
    assert call(b, runtime)[0] == 401
    # Its spend is in the ledger under its name; the key itself is stored nowhere.
    settle()
    day = fleet["store"].spend([f"spend:day:{today()}:key:rt"])[0]
    assert day["requests"] == 3
    assert not redis_cli(fleet["redis"], "--scan", "--pattern", f"*{runtime}*")
    # Runtime keys serve model calls only.
    status, _, _ = http("GET", a.base + "/v1/models", headers={"authorization": f"Bearer {other}"})
    assert status == 401


def test_store_down_gets_the_policy_and_recovers(fleet):
    a, b, redis = fleet["a"], fleet["b"], fleet["redis"]
    closed = start_envoy(fleet["mock"], fleet["store"], "fleet-closed", failure="fail_closed")
    try:
        assert chat(closed, "lim")[0] == 200
        before = degraded(a, "fail_open") + degraded(b, "fail_open")

        def one(i):
            t0 = time.monotonic()
            status = chat(a if i % 2 else b, "lim")[0]
            return status, time.monotonic() - t0

        with ThreadPoolExecutor(4) as pool:
            first = list(pool.map(one, range(8)))
            redis.stop()  # mid-load
            during = list(pool.map(one, range(16)))
        # fail_open: every request served by the local limits, none hung.
        assert all(s == 200 for s, _ in first + during), first + during
        assert all(t < 5 for _, t in during), during
        after = degraded(a, "fail_open") + degraded(b, "fail_open")
        assert after - before >= 16, (before, after)
        # fail_closed: an OpenAI-shaped 503, at once.
        t0 = time.monotonic()
        status, headers, body = chat(closed, "lim")
        assert status == 503 and body["error"]["code"] == "store_unavailable", body
        assert time.monotonic() - t0 < 5
        assert degraded(closed, "fail_closed") >= 1
        # Redis back (empty): admissions go through the store again.
        redis.start()
        deadline = time.time() + 10
        while chat(closed, "lim")[0] != 200 and time.time() < deadline:
            time.sleep(0.2)
        assert chat(closed, "lim")[0] == 200
        now = degraded(a, "fail_open") + degraded(b, "fail_open")
        for i in range(4):
            assert chat(a if i % 2 else b, "lim")[0] == 200
        assert degraded(a, "fail_open") + degraded(b, "fail_open") == now
        # Redis came back empty: a window of this key exists only if the store admitted.
        assert redis_cli(redis, "--scan", "--pattern", "{llmgw}:rate:*:key:lim")
    finally:
        closed.stop()
