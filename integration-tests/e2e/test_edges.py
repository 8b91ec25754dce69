"""What the gateway lets through to providers and back to clients, through real Envoy:
client headers by allow-list, credentials redacted from provider errors, Envoy's own
replies as JSON errors, compressed bodies, and the 413 a whole-body-first client sees."""

import gzip
import json

import openai
import pytest

from harness import DEMO, KEYS, Envoy, http

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def openai_error(body):
    e = json.loads(body)["error"]
    assert set(e) == {"message", "type", "param", "code"}, e
    assert e["message"], e
    return e


def anthropic_error(body):
    doc = json.loads(body)
    assert doc["type"] == "error", doc
    assert doc["error"]["type"] and doc["error"]["message"], doc
    return doc["error"]


def test_only_allowed_client_headers_reach_the_provider(gateway, oa):
    status, _, body = gateway.chat(CHAT, {
        "openai-organization": "org-victim", "openai-project": "proj-victim",
        "x-goog-user-project": "victim", "cookie": "session=1",
        "proxy-authorization": "Basic eDp5", "x-stainless-os": "Linux",
        "x-envoy-retry-on": "5xx", "accept": "application/json",
        "user-agent": "edge-test/1", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    })
    assert status == 200, body
    [req] = oa.requests()
    h = req["headers"]
    for name in ("openai-organization", "openai-project", "x-goog-user-project", "cookie",
                 "proxy-authorization", "x-stainless-os", "x-envoy-retry-on"):
        assert name not in h, name
    assert h["accept"] == "application/json"
    assert h["user-agent"] == "edge-test/1"
    assert h["traceparent"].startswith("00-0af7")
    assert h["authorization"] == "Bearer " + KEYS["DEMO_OPENAI_KEY"]


def test_a_credential_echoed_by_the_provider_is_redacted(gateway, oa):
    key = KEYS["DEMO_OPENAI_KEY"]
    oa.faults([{"status": 401, "body": json.dumps(
        {"error": {"message": f"Incorrect API key provided: {key}.", "type": "invalid_request_error"}})}])
    status, _, body = gateway.chat(CHAT)
    assert status == 401
    assert key.encode() not in body
    assert openai_error(body)["message"] == "Incorrect API key provided: [REDACTED]."


def test_gzip_bodies_are_inflated_and_other_encodings_refused(gateway, oa):
    raw = json.dumps(CHAT).encode()
    status, _, body = http("POST", gateway.base + "/v1/chat/completions", gzip.compress(raw),
                           {"content-type": "application/json", "content-encoding": "gzip"})
    assert status == 200, body
    [req] = oa.requests()
    assert "content-encoding" not in req["headers"]
    assert json.loads(req["body"])["model"] == "gpt-4o-mini"
    oa.reset()
    status, _, body = http("POST", gateway.base + "/v1/chat/completions", raw,
                           {"content-type": "application/json", "content-encoding": "br"})
    assert status == 415
    assert openai_error(body)["code"] == "unsupported_content_encoding"
    assert oa.requests() == []


def test_a_client_writing_a_large_body_first_reads_the_413(gateway, oa):
    big = "x" * (9 * 1024 * 1024)  # over the demo's max_body_bytes (8 MiB)
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": big}]}).encode()
    # urllib writes the whole body before it reads: a reply sent mid-upload (and the
    # connection closed with the upload unread) reached it as a connection reset.
    for _ in range(5):
        status, _, resp = http("POST", gateway.base + "/v1/chat/completions", body,
                               {"content-type": "application/json"}, timeout=30)
        assert status == 413
        assert openai_error(resp)["code"] == "request_too_large"
    client = openai.OpenAI(base_url=gateway.base + "/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.APIStatusError) as err:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": big}])
    assert err.value.status_code == 413
    assert err.value.body["code"] == "request_too_large"
    assert oa.requests() == []


def test_envoy_replies_outside_the_filter_are_json(gateway):
    # No route header for paths outside /v1/: Envoy's cluster_header finds no cluster.
    status, headers, body = http("GET", gateway.base + "/healthz")
    assert status == 503
    assert headers["content-type"].startswith("application/json")
    openai_error(body)


def test_envoy_replies_for_upstream_trouble_are_json_in_the_clients_shape(gateway, oa, an):
    # The provider's answer is cut mid-way (full content-length, half the body).
    status, _, body = gateway.chat(CHAT, {"x-mock-cut-after-events": "1"})
    assert status in (502, 503), body
    openai_error(body)
    msg = {"model": "claude-sonnet", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    status, _, body = http("POST", gateway.base + "/v1/messages", msg,
                           {"content-type": "application/json", "x-mock-cut-after-events": "1"})
    assert status in (502, 503), body
    anthropic_error(body)


def test_a_cluster_that_does_not_exist_and_buffer_limits_are_json(mocks):
    cfg_ports = {18081: mocks["openai_mock"]}

    def edit(doc):
        listener = doc["static_resources"]["listeners"][0]
        listener["per_connection_buffer_limit_bytes"] = 65536
        hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
        hcm["route_config"]["virtual_hosts"][0]["request_body_buffer_limit"] = 65536
        wasm = next(f for f in hcm["http_filters"] if f["name"] == "llm-gateway")
        plugin = json.loads(wasm["typed_config"]["config"]["configuration"]["value"])
        plugin["providers"].append({"name": "ghost", "kind": "openai", "cluster": "no_such_cluster"})
        plugin["models"].append({"name": "ghost", "targets": [{"provider": "ghost", "model": "g"}]})
        wasm["typed_config"]["config"]["configuration"]["value"] = json.dumps(plugin)

    e = Envoy(config_file=DEMO, ports=cfg_ports, edit=edit, name="edges-limits")
    try:
        status, _, body = e.chat(dict(CHAT, model="ghost"))
        assert status == 503, body
        # The filter translates the reply as the provider's answer: Envoy's words survive.
        assert "cluster_not_found" in openai_error(body)["message"], body
        # It names the cluster Envoy does not have.
        assert "no_such_cluster" in openai_error(body)["message"], body
        # An answer over Envoy's buffer (the filter holds it to translate it).
        oa = mocks["openai_mock"]
        oa.reset()
        oa.faults([{"body": json.dumps({"pad": "y" * 200_000})}])
        status, _, body = e.chat(CHAT)
        assert status == 500, body
        openai_error(body)
        # A request under max_body_bytes but over Envoy's own request buffer.
        status, _, body = e.chat(dict(CHAT, messages=[{"role": "user", "content": "z" * 200_000}]))
        assert status == 413, body
        openai_error(body)
        assert oa.requests() == [] or all("zzzz" not in r["body"] for r in oa.requests())
    finally:
        e.stop()
