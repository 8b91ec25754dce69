"""Keys, allow-lists, rate limits, budgets, the usage ledger, metrics and access-log
fields, through real Envoy with two workers."""

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

from harness import Envoy, Mock, http

KEYS = {"app": "sk-app-secret", "limited": "sk-limited-secret", "tokens": "sk-tokens-secret",
        "spender": "sk-spender-secret", "admin": "sk-admin-secret"}
RPM = 10
TPM = 120
PRICE_IN, PRICE_OUT = 100_000.0, 200_000.0  # USD per million tokens: 0.1 / 0.2 USD per token
BUDGET = 5.0


def sha(k):
    return hashlib.sha256(k.encode()).hexdigest()


@pytest.fixture(scope="module")
def gw():
    mock = Mock("keys")
    cfg = {
        "providers": [{"name": "p", "kind": "openai", "cluster": "c"}],
        "models": [
            {"name": "open", "targets": [{"provider": "p", "model": "up-open"}]},
            {"name": "secret", "targets": [{"provider": "p", "model": "up-secret"}]},
            {"name": "priced", "targets": [{"provider": "p", "model": "up-priced"}]},
        ],
        # Every model a budgeted key can reach has a price (0 is one).
        "prices": [{"model": "up-priced", "input": PRICE_IN, "output": PRICE_OUT},
                   {"model": "up-open", "input": 0, "output": 0}, {"model": "up-secret", "input": 0, "output": 0}],
        "access": {
            "teams": [{"name": "blue", "budget_usd": 1000, "budget_period": "month"}],
            "keys": [
                {"name": "app", "sha256": sha(KEYS["app"]), "team": "blue", "models": ["open", "priced"]},
                {"name": "limited", "sha256": sha(KEYS["limited"]), "rpm": RPM},
                {"name": "tokens", "sha256": sha(KEYS["tokens"]), "tpm": TPM},
                {"name": "spender", "sha256": sha(KEYS["spender"]), "budget_usd": BUDGET, "budget_period": "day"},
                {"name": "admin", "sha256": sha(KEYS["admin"]), "admin": True},
            ],
        },
    }
    e = Envoy({"c": mock}, plugin_config=cfg, name="access")
    yield e, mock
    e.stop()
    mock.stop()


def chat(e, key, model="open", content="hello there", headers=None, **extra):
    h = {"authorization": f"Bearer {key}"} if key else {}
    h.update(headers or {})
    return e.chat(dict({"model": model, "messages": [{"role": "user", "content": content}]}, **extra), h)


def fresh_window():
    """Rate windows are whole UTC minutes: start a burst well inside one."""
    s = time.time() % 60
    if s > 45:
        time.sleep(60 - s + 0.2)


def test_keys_and_allow_list(gw):
    e, mock = gw
    mock.reset()
    assert chat(e, None)[0] == 401
    status, _, body = chat(e, "sk-nope")
    assert status == 401 and json.loads(body)["error"]["code"] == "invalid_api_key"
    assert chat(e, KEYS["app"])[0] == 200
    status, _, body = chat(e, KEYS["app"], model="secret")
    assert status == 403 and json.loads(body)["error"]["code"] == "model_not_allowed"
    # x-api-key works too; the client's key never reaches the provider
    assert e.chat({"model": "open", "messages": [{"role": "user", "content": "x"}]},
                  {"x-api-key": KEYS["app"]})[0] == 200
    recs = mock.requests()
    assert len(recs) == 2
    assert all(k not in json.dumps(r) for r in recs for k in KEYS.values())
    # /v1/models shows what the key may use
    models = openai.OpenAI(base_url=e.base + "/v1", api_key=KEYS["app"]).models.list()
    assert [m.id for m in models] == ["open", "priced"]
    # /v1/models/{id} too: a model the key may not use is as unknown as a missing one.
    app = openai.OpenAI(base_url=e.base + "/v1", api_key=KEYS["app"], max_retries=0)
    got = app.models.retrieve("priced")
    assert (got.id, got.object, got.owned_by) == ("priced", "model", "llm-gateway")
    for hidden in ("secret", "nope"):
        with pytest.raises(openai.NotFoundError) as missing:
            app.models.retrieve(hidden)
        assert missing.value.body["code"] == "model_not_found"
    admin = openai.OpenAI(base_url=e.base + "/v1", api_key=KEYS["admin"], max_retries=0)
    assert admin.models.retrieve("secret").id == "secret"


def test_rpm_holds_exactly_under_concurrency(gw):
    e, mock = gw
    fresh_window()
    mock.reset()
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: chat(e, KEYS["limited"]), range(4 * RPM)))
    statuses = [r[0] for r in results]
    assert statuses.count(200) == RPM, statuses
    assert statuses.count(429) == 3 * RPM
    assert len(mock.requests()) == RPM
    refused = next(r for r in results if r[0] == 429)
    assert json.loads(refused[2])["error"]["code"] == "rate_limit_exceeded"
    h = {k.lower(): v for k, v in refused[1].items()}
    assert h["x-ratelimit-limit-requests"] == str(RPM)
    assert h["x-ratelimit-remaining-requests"] == "0"
    assert 1 <= int(h["retry-after"]) <= 60


def test_tpm_overshoots_by_at_most_one_request(gw):
    e, mock = gw
    fresh_window()
    mock.reset()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: chat(e, KEYS["tokens"], content="word " * 10, max_tokens=20),
                                range(40)))
    ok = [r for r in results if r[0] == 200]
    assert ok and len(ok) < 40
    used = [r["usage"]["prompt_tokens"] + r["usage"]["completion_tokens"] for r in mock.requests()]
    assert len(used) == len(ok)
    assert sum(used) <= TPM + max(used), (sum(used), used)
    assert all(r[0] in (200, 429) for r in results)


def test_budget_stops_spend_and_ledger_matches(gw):
    e, mock = gw
    mock.reset()
    spent_ok = 0
    for _ in range(50):
        status, _, body = chat(e, KEYS["spender"], model="priced", content="a b c")
        if status == 429:
            assert json.loads(body)["error"]["code"] == "budget_exceeded"
            break
        assert status == 200
        spent_ok += 1
    else:
        pytest.fail("budget never stopped spend")
    cost = sum(r["usage"]["prompt_tokens"] * PRICE_IN / 1e6 + r["usage"]["completion_tokens"] * PRICE_OUT / 1e6
               for r in mock.requests())
    assert len(mock.requests()) == spent_ok
    # spend stops at the limit: the last admitted request was still under it
    last = mock.requests()[-1]["usage"]
    last_cost = last["prompt_tokens"] * PRICE_IN / 1e6 + last["completion_tokens"] * PRICE_OUT / 1e6
    assert cost - last_cost < BUDGET <= cost + 1e-9
    status, _, body = http("GET", e.base + "/v1/usage", headers={"authorization": f"Bearer {KEYS['admin']}"})
    assert status == 200, body
    report = json.loads(body)
    assert report["keys"]["spender"]["day"]["cost_usd"] == pytest.approx(cost)
    assert report["keys"]["spender"]["day"]["requests"] == spent_ok
    assert http("GET", e.base + "/v1/usage", headers={"authorization": f"Bearer {KEYS['app']}"})[0] == 403


def test_ledger_metrics_and_access_log_agree_with_the_provider(gw):
    e, mock = gw
    mock.reset()
    before = http("GET", e.base + "/v1/usage", headers={"authorization": f"Bearer {KEYS['admin']}"})[2]
    before = json.loads(before)["keys"]["app"]["day"]
    m_before = e.counter("llmgw_prompt_tokens_total", "priced", "p", "up-priced", llm_key="app")
    c = openai.OpenAI(base_url=e.base + "/v1", api_key=KEYS["app"], max_retries=0)
    # streaming without include_usage: the gateway asks the provider anyway and accounts it
    chunks = list(c.chat.completions.create(model="priced", stream=True,
                                            messages=[{"role": "user", "content": "count these five words"}]))
    assert not any(ch.usage for ch in chunks)
    c.chat.completions.create(model="priced", messages=[{"role": "user", "content": "and these"}])
    [r1, r2] = mock.requests()
    prompt = r1["usage"]["prompt_tokens"] + r2["usage"]["prompt_tokens"]
    completion = r1["usage"]["completion_tokens"] + r2["usage"]["completion_tokens"]
    after = json.loads(http("GET", e.base + "/v1/usage",
                            headers={"authorization": f"Bearer {KEYS['admin']}"})[2])
    day = after["keys"]["app"]["day"]
    assert day["prompt_tokens"] - before["prompt_tokens"] == prompt
    assert day["completion_tokens"] - before["completion_tokens"] == completion
    assert after["keys"]["app"]["team"] == "blue"
    assert after["teams"]["blue"]["day"]["prompt_tokens"] >= prompt
    assert e.counter("llmgw_prompt_tokens_total", "priced", "p", "up-priced", llm_key="app") - m_before == prompt
    cost = e.counter("llmgw_cost_nano_usd_total", "priced", "p", "up-priced", llm_key="app")
    assert cost > 0
    # histograms with OpenTelemetry GenAI names, in seconds, at /llm/metrics (admin key;
    # written by each worker on its tick): test_observability.py checks them in detail
    for _ in range(50):
        text = http("GET", e.base + "/llm/metrics", headers={"authorization": f"Bearer {KEYS['admin']}"})[2].decode()
        if 'gen_ai_client_token_usage_count{' in text and 'gen_ai_request_model="priced"' in text:
            break
        time.sleep(0.2)
    assert "gen_ai_client_operation_duration_seconds_count{" in text, text
    # access-log fields (filter state), flushed by Envoy within a few seconds
    want = (f"model=up-priced key=app prompt_tokens={r2['usage']['prompt_tokens']} "
            f"completion_tokens={r2['usage']['completion_tokens']}")
    for _ in range(50):
        log = e.access_log()
        if want in log:
            break
        time.sleep(0.2)
    line = next(l for l in log.splitlines() if want in l)
    assert "provider=p" in line and "usage=reported" in line
    r2_cost = r2["usage"]["prompt_tokens"] * PRICE_IN / 1e6 + r2["usage"]["completion_tokens"] * PRICE_OUT / 1e6
    assert f"cost_usd={r2_cost:.9f}" in line
    for k in KEYS.values():
        assert k not in log


def test_refusals_are_counted(gw):
    e, _ = gw
    before = sum(v for (n, ls), v in e.stats().items() if n == "llmgw_limit_refusals_total"
                 and ("reason", "unauthorized") in ls)
    chat(e, "sk-wrong-again")
    after = sum(v for (n, ls), v in e.stats().items() if n == "llmgw_limit_refusals_total"
                and ("reason", "unauthorized") in ls)
    assert after == before + 1
