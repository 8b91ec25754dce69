"""Hostile use of last session's additions through real Envoy: stored responses are their
creator's only (official openai SDK), token counts are rate limited, hostile headers and
bodies on the new endpoints get clean errors and leave the worker serving, and planted
secrets appear in no output channel (replies, Envoy's log, the access log, /llm/metrics,
/stats/prometheus, the spans an OTLP receiver gets)."""

import hashlib
import json
import os
import time
from pathlib import Path

import openai
import pytest
import yaml

from harness import Envoy, Mock, http
from otlp_receiver import Collector, add_cluster

PROVIDER_KEY = "sk-PLANTED-provider-e2e-81f0"
ALICE, BOB, ADMIN = "sk-PLANTED-alice-5c2e", "sk-PLANTED-bob-0d9a", "sk-PLANTED-admin-77b1"
SECRETS = [PROVIDER_KEY, ALICE, BOB, ADMIN]
JSON_LOG = Path(__file__).resolve().parents[2] / "envoy-config" / "access-log-json.yaml"


def sha(k):
    return hashlib.sha256(k.encode()).hexdigest()


def edit(collector):
    def apply(doc):
        add_cluster(doc, collector)
        hcm = doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
        hcm["access_log"] = yaml.safe_load(JSON_LOG.read_text())["access_log"]
        wasm = next(f for f in hcm["http_filters"] if f["name"] == "llm-gateway")
        vm = wasm["typed_config"]["config"]["vm_config"]
        vm["environment_variables"]["host_env_keys"].append("HOSTILE_PROVIDER_KEY")
    return apply


@pytest.fixture(scope="module")
def gw():
    os.environ["HOSTILE_PROVIDER_KEY"] = PROVIDER_KEY
    oa, an, col = Mock("hostile-openai"), Mock("hostile-anthropic"), Collector()
    cfg = {
        "providers": [{"name": "oa", "kind": "openai", "cluster": "co", "api_key_env": "HOSTILE_PROVIDER_KEY"},
                      {"name": "an", "kind": "anthropic", "cluster": "ca", "api_key_env": "HOSTILE_PROVIDER_KEY"}],
        "models": [{"name": "gpt", "targets": [{"provider": "oa", "model": "gpt-4o-mini"}]},
                   {"name": "claude", "targets": [{"provider": "an", "model": "claude-sonnet-4-5"}]}],
        "access": {"keys": [{"name": "alice", "sha256": sha(ALICE), "rpm": 1000},
                            {"name": "bob", "sha256": sha(BOB), "rpm": 3},
                            {"name": "ops", "sha256": sha(ADMIN), "admin": True}]},
        "traces": {"cluster": "otel", "flush_ms": 100},
        "decision_header": True,
    }
    e = Envoy({"co": oa, "ca": an}, plugin_config=cfg, name="hostile-new", concurrency=2, edit=edit(col))
    yield e, oa, an, col
    e.stop()
    for m in (oa, an):
        m.stop()
    col.stop()


def client(e, key):
    return openai.OpenAI(base_url=e.base + "/v1", api_key=key, max_retries=0)


def post(e, path, body, key=ALICE, headers=None):
    h = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    h.update(headers or {})
    return http("POST", e.base + path, body, h)


def test_a_stored_response_is_its_creators_only(gw):
    e, oa, _, _ = gw
    created = client(e, ALICE).responses.create(model="gpt", input="my secret plan", store=True)
    assert created.id.startswith("resp_")
    oa.reset()
    bob = client(e, BOB)
    with pytest.raises(openai.NotFoundError):
        bob.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        bob.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError) as err:
        bob.responses.create(model="gpt", input="and then?", previous_response_id=created.id)
    assert err.value.body["param"] == "previous_response_id"
    assert oa.requests() == [], "nothing of bob's reached the provider"
    # Its creator (and an admin) reach it.
    assert client(e, ALICE).responses.retrieve(created.id).id == created.id
    assert client(e, ADMIN).responses.retrieve(created.id).id == created.id
    # Streamed: owned from its first event.
    with client(e, ALICE).responses.stream(model="gpt", input="streamed") as s:
        streamed = s.get_final_response()
    with pytest.raises(openai.NotFoundError):
        bob.responses.retrieve(streamed.id)
    assert client(e, ALICE).responses.retrieve(streamed.id).id == streamed.id


def test_token_counts_are_rate_limited(gw):
    e, _, an, _ = gw
    body = {"model": "claude", "messages": [{"role": "user", "content": "count me"}]}
    statuses = []
    # bob's rpm is 3 (and the previous test may have used some of this minute's).
    for _ in range(5):
        status, headers, raw = post(e, "/v1/messages/count_tokens", body, key=BOB)
        statuses.append(status)
        if status == 429:
            doc = json.loads(raw)
            assert doc["type"] == "error" and doc["error"]["type"] == "rate_limit_error", doc
            assert int(headers["retry-after"]) >= 1
    assert 429 in statuses and statuses.index(429) <= 3, statuses


HOSTILE = [
    # (path, body, extra headers, status, the error's shape)
    ("/v1/responses", b'{"model":"gpt","input":' + b"[" * 200 + b"]" * 200 + b"}", {}, 400, "openai"),
    ("/v1/responses", b'{"model":"gpt","input":"\xff\xfe"}', {}, 400, "openai"),
    ("/v1/responses", b'{"model":"gpt","input":"a","mod\\u0065l":"claude"}', {}, 400, "openai"),
    ("/v1/responses", b'{"model":"gpt","input":"a","max_output_tokens":1e999}', {}, 400, "openai"),
    ("/v1/responses", b'{"model":"gpt","input":"a","max_output_tokens":-1}', {}, 400, "openai"),
    ("/v1/responses", b'{"model":["gpt"],"input":"a"}', {}, 400, "openai"),
    ("/v1/messages/count_tokens", b'{"model":"claude","messages":"x"}', {}, 400, "anthropic"),
    ("/v1/messages/count_tokens", b'{"model":"claude","messages":[{"role":"user","content":[' + b'{"type":"text","text":"a"},' * 2000 + b'{"type":"text","text":"a"}]}],"messages":[]}', {}, 400, "anthropic"),
    ("/v1/chat/completions", json.dumps({"model": "gpt", "messages": [{"role": "user", "content": "x"}]}).encode(),
     {"traceparent": "00-" + "é" * 16 + "-00f067aa0ba902b7-01"}, 200, None),
    ("/v1/chat/completions", json.dumps({"model": "gpt", "messages": [{"role": "user", "content": "x"}]}).encode(),
     {"traceparent": "a" * 8000, "x-b3-traceid": "zz", "x-b3-spanid": "0000000000000000"}, 200, None),
]


@pytest.mark.parametrize("path,body,extra,status,shape", HOSTILE)
def test_hostile_bodies_and_headers_get_clean_answers(gw, path, body, extra, status, shape):
    e = gw[0]
    headers = {k: v.encode("utf-8").decode("latin-1") for k, v in extra.items()}
    got, h, raw = post(e, path, body, headers=headers)
    assert got == status, raw[:500]
    doc = json.loads(raw)
    if shape == "anthropic":
        assert doc["type"] == "error" and doc["error"]["type"] == "invalid_request_error", doc
    elif shape == "openai":
        assert doc["error"]["type"] == "invalid_request_error" and doc["error"]["message"], doc


@pytest.mark.parametrize("authorization", [
    "Basic !!!!", "Basic " + "QUFB" * 4000, "Basic YWRtaW4=", "Basic", "Bearer", "Basic w7/Dvw==",
])
def test_hostile_basic_credentials_are_a_401_with_a_login_prompt(gw, authorization):
    e = gw[0]
    status, h, raw = http("GET", e.base + "/llm/state", headers={"authorization": authorization})
    assert status == 401, raw[:300]
    assert h["www-authenticate"].startswith("Basic")
    assert json.loads(raw)["error"]["type"]


def test_the_worker_still_serves_after_all_of_it(gw):
    e = gw[0]
    for _ in range(4):  # both workers
        status, _, raw = e.chat({"model": "gpt", "messages": [{"role": "user", "content": "still there?"}]},
                                {"authorization": f"Bearer {ALICE}"})
        assert status == 200, raw
    log = e.log()
    assert "panicked" not in log and "Wasm VM failed" not in log and "wasm trap" not in log.lower()


def test_planted_secrets_appear_in_no_output_channel(gw):
    e, oa, an, col = gw
    seen = []

    def keep(status, headers, body):
        seen.append(json.dumps(headers).encode() + body)
        return status

    chat = {"model": "gpt", "messages": [{"role": "user", "content": "hello"}]}
    # A provider that echoes its credential in its error, JSON and in a stream.
    oa.faults([{"status": 401, "body": json.dumps({"error": {"message": f"Incorrect API key: {PROVIDER_KEY}"}})}])
    keep(*post(e, "/v1/chat/completions", chat))
    an.faults([{"status": 401, "body": json.dumps({"type": "error", "error": {
        "type": "authentication_error", "message": f"invalid x-api-key {PROVIDER_KEY}"}})}])
    keep(*post(e, "/v1/messages", {"model": "claude", "max_tokens": 5,
                                   "messages": [{"role": "user", "content": "x"}]}))
    oa.faults([{"status": 401, "body": json.dumps({"error": {"message": f"key {PROVIDER_KEY} revoked"}})}])
    keep(*post(e, "/v1/responses", {"model": "gpt", "input": "x"}))
    # A stored response's retrieval that fails the same way.
    status, _, raw = post(e, "/v1/responses", {"model": "gpt", "input": "keep me", "store": True})
    assert status == 200, raw
    rid = json.loads(raw)["id"]
    oa.faults([{"status": 401, "body": json.dumps({"error": {"message": f"Incorrect API key: {PROVIDER_KEY}"}})}])
    assert keep(*http("GET", f"{e.base}/v1/responses/{rid}", headers={"authorization": f"Bearer {ALICE}"})) == 401
    # Successes, refusals, a wrong key that looks like a real one, the admin pages.
    keep(*post(e, "/v1/chat/completions", chat))
    keep(*post(e, "/v1/responses", {"model": "gpt", "input": "x", "stream": True}))
    keep(*post(e, "/v1/messages/count_tokens", {"model": "claude", "messages": [{"role": "user", "content": "x"}]}))
    keep(*post(e, "/v1/chat/completions", chat, key=ALICE + "x"))
    keep(*post(e, "/v1/chat/completions", chat, key=ADMIN))
    basic = "Basic " + __import__("base64").b64encode(f"admin:{ADMIN}".encode()).decode()
    for page in ("/llm/state", "/llm/usage", "/llm/metrics", "/llm/dashboard"):
        assert keep(*http("GET", e.base + page, headers={"authorization": basic})) == 200
    wrong = "Basic " + __import__("base64").b64encode(f"admin:{ADMIN}-wrong".encode()).decode()
    assert keep(*http("GET", e.base + "/llm/state", headers={"authorization": wrong})) == 401
    prometheus = http("GET", f"http://127.0.0.1:{e.admin_port}/stats/prometheus")[2]
    # Spans are exported every 100 ms; the access log is written asynchronously.
    deadline = time.time() + 10
    while time.time() < deadline and (len(col.bodies) == 0 or "/llm/state" not in e.access_log()):
        time.sleep(0.1)
    assert col.bodies, "the collector got no spans"
    channels = {
        "replies": b"\n".join(seen),
        "envoy log": e.log().encode(),
        "access log": e.access_log().encode(),
        "/stats/prometheus": prometheus,
        "spans": b"\n".join(col.bodies),
    }
    for name, text in channels.items():
        for secret in SECRETS:
            assert secret.encode() not in text, f"{secret} in {name}"
    # The provider's own credential went to the provider, and only there.
    assert any(r["headers"].get("authorization") == f"Bearer {PROVIDER_KEY}" for r in oa.requests())
