"""Limits and charges that a second model name or a broken upstream must not get
around, through real Envoy with two workers."""

import hashlib
import json
import os
import subprocess
import time

import openai
import pytest
import yaml

from harness import ENVOY, KEYS, LOGS, Envoy, Mock, http

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
        # A budgeted key lists what it may call, and each of those has a price (0 is one).
        "prices": [{"model": "up-priced", "input": PRICE, "output": PRICE}]
        + [{"model": m, "input": 0, "output": 0} for m in ("up-fast", "UP-FAST", "up-other")],
        "access": {"keys": [
            {"name": "app", "sha256": sha(APP), "budget_usd": BUDGET, "budget_period": "day",
             "models": ["fast", "priced", "p/up-fast", "p/UP-FAST", "p/up-other"]},
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


class LdsEnvoy(Envoy):
    """Envoy whose listener comes from a watched LDS file, so a test can swap the plugin
    configuration the way a control plane does (the old plugin is torn down)."""

    def _start(self, doc, concurrency, name):
        self.lds_dir = LOGS / f"{name}-lds"
        self.lds_dir.mkdir(parents=True, exist_ok=True)
        self.listener = doc["static_resources"].pop("listeners")[0]
        self.write_listener()
        doc["node"] = {"id": "e2e", "cluster": "e2e"}  # required with dynamic resources
        doc["dynamic_resources"] = {"lds_config": {
            "resource_api_version": "V3",
            "path_config_source": {"path": str(self.lds_dir / "lds.yaml"),
                                   "watched_directory": {"path": str(self.lds_dir)}}}}
        self.name = name
        self.config_path = LOGS / f"{name}.yaml"
        self.log_path = LOGS / f"{name}.log"
        self.config_path.write_text(yaml.safe_dump(doc))
        env = dict(os.environ, **KEYS)
        self.proc = subprocess.Popen(
            [str(ENVOY), "-c", str(self.config_path), "--concurrency", str(concurrency),
             "--disable-hot-restart", "-l", "info", "--drain-time-s", "1",
             "--drain-strategy", "immediate"],
            stdout=open(LOGS / f"{name}.access.log", "w"), stderr=open(self.log_path, "w"), env=env,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self._wait_ready()

    def plugin(self):
        hcm = self.listener["filter_chains"][0]["filters"][0]["typed_config"]
        return next(f for f in hcm["http_filters"] if f["name"] == "llm-gateway")["typed_config"]["config"]

    def write_listener(self):
        body = {"resources": [dict({"@type": "type.googleapis.com/envoy.config.listener.v3.Listener"},
                                   **self.listener)]}
        tmp = self.lds_dir / "lds.tmp"
        tmp.write_text(yaml.safe_dump(body))
        os.rename(tmp, self.lds_dir / "lds.yaml")  # atomic: Envoy never reads half a file


def test_batched_usage_survives_a_configuration_swap():
    mock = Mock("swap")
    cfg = {"providers": [{"name": "p", "kind": "openai", "cluster": "c"}],
           "models": [{"name": "m", "targets": [{"provider": "p", "model": "up"}]}],
           "usage_flush_ms": 60000}
    e = LdsEnvoy({"c": mock}, plugin_config=cfg, name="swap")
    try:
        c = openai.OpenAI(base_url=e.base + "/v1", api_key="x", max_retries=0)
        for i in range(30):
            c.chat.completions.create(model="m", messages=[{"role": "user", "content": f"n {i}"}])
        # Held in the workers for a minute.
        assert e.counter("llmgw_requests_total", "m", "p", "up") == 0
        cfg["strict"] = True  # any change: a new plugin, the old one is torn down
        e.plugin()["configuration"]["value"] = json.dumps(cfg)
        e.write_listener()
        deadline = time.time() + 15
        while e.counter("llmgw_requests_total", "m", "p", "up") < 30 and time.time() < deadline:
            time.sleep(0.2)
        assert e.counter("llmgw_requests_total", "m", "p", "up") == 30
        assert e.counter("llmgw_prompt_tokens_total", "m", "p", "up") == sum(
            r["usage"]["prompt_tokens"] for r in mock.requests())
    finally:
        e.stop()
        mock.stop()
