"""Operations through real Envoy: Prometheus metrics by the OpenTelemetry GenAI
conventions (checked with promtool), exact label values, refusal counts, the GenAI
histograms at /llm/metrics, ISO dates in /v1/usage."""

import hashlib
import http.client as http_client
import json
import random
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from harness import KEYS, ROOT, Envoy, Mock, demo_plugin_config, http
from otlp_receiver import Collector, add_cluster

ADMIN, APP = "sk-obs-admin", "sk-obs-app"
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def sha(k):
    return hashlib.sha256(k.encode()).hexdigest()


JSON_LOG = Path(__file__).resolve().parents[2] / "envoy-config" / "access-log-json.yaml"


def json_access_log(doc):
    hcm = doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    hcm["access_log"] = yaml.safe_load(JSON_LOG.read_text())["access_log"]


@pytest.fixture(scope="module")
def obs(mocks):
    """The demo configuration on its own Envoy (two workers), with the shipped JSON access
    log: counters start at zero."""
    e = Envoy(mocks, name="observability", edit=json_access_log)
    yield e
    e.stop()


@pytest.fixture(scope="module")
def secured():
    """Access control on: /llm/ and /v1/usage for admin keys only."""
    mock = Mock("obs-secured")
    cfg = {
        "providers": [{"name": "p", "kind": "openai", "cluster": "c"}],
        "models": [{"name": "m", "targets": [{"provider": "p", "model": "up"}]}],
        "access": {"keys": [{"name": "admin", "sha256": sha(ADMIN), "admin": True},
                            {"name": "app", "sha256": sha(APP)}]},
    }
    e = Envoy({"c": mock}, plugin_config=cfg, name="observability-secured", concurrency=1)
    yield e
    e.stop()
    mock.stop()


def series(text):
    """Prometheus text → [(name, {label: value}, value)] (comments skipped)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        metric, value = line.rsplit(" ", 1)
        name, _, labels = metric.partition("{")
        out.append((name, dict(LABEL.findall(labels)), float(value)))
    return out


def prometheus(e):
    return http("GET", f"http://127.0.0.1:{e.admin_port}/stats/prometheus")[2].decode()


def llm_metrics(e, headers=None):
    status, h, body = http("GET", e.base + "/llm/metrics", headers=headers or {})
    assert status == 200, body
    assert h["content-type"].startswith("text/plain; version=0.0.4")
    return body.decode()


def llm_metrics_when(e, pred, headers=None):
    """/llm/metrics once `pred(text)` holds (workers write on their tick), else the last."""
    deadline = time.time() + 10
    while True:
        text = llm_metrics(e, headers)
        if pred(text) or time.time() > deadline:
            return text
        time.sleep(0.1)


def value(text, name, **labels):
    """Sum of `name` over series whose labels include `labels` exactly."""
    return sum(v for n, ls, v in series(text) if n == name and labels.items() <= ls.items())


def chat(e, model, content="hello", **extra):
    return e.chat(dict({"model": model, "messages": [{"role": "user", "content": content}]}, **extra))


def promtool(text):
    """promtool's complaints as (metric, problem) pairs; a failure to run is an error."""
    tool = shutil.which("promtool")
    assert tool, "promtool missing: ./build.sh test installs Debian's prometheus package"
    p = subprocess.run([tool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=60)
    problems = []
    for line in (p.stdout + p.stderr).decode().splitlines():
        if line.strip():
            metric, _, problem = line.strip().partition(" ")
            problems.append((metric, problem))
    return p.returncode, problems


def test_promtool_accepts_the_gateways_metrics(obs, oa):
    assert chat(obs, "gpt-4o-mini")[0] == 200
    assert chat(obs, "no-such-model")[0] == 404
    code, problems = promtool(prometheus(obs))
    # Envoy writes no HELP line for any stat (its own or a Wasm filter's): the one
    # exception the gateway's series may have.
    ours = [(m, p) for m, p in problems if m.startswith(("llmgw_", "gen_ai_"))]
    assert all(p == "no help text" for _, p in ours), ours
    # Envoy's own stats predate the Prometheus conventions (Envoy 1.40 as measured).
    envoy_own = {"no help text", 'counter metrics should have "_total" suffix',
                 "metric names should not contain abbreviated units",
                 'non-histogram and non-summary metrics should not have "_count" suffix',
                 'non-counter metrics should not have "_total" suffix',
                 'use base unit "seconds" instead of "days"'}
    others = [(m, p) for m, p in problems if (m, p) not in ours]
    assert all(m.startswith(("envoy_", "server_")) or "envoy" in m for m, _ in others), others
    assert {p for _, p in others} <= envoy_own, others
    assert any(m.startswith("llmgw_requests_total") for m, _ in ours), problems
    # The GenAI histograms the filter serves itself pass without any exception.
    text = llm_metrics_when(obs, lambda t: "_count{" in t)
    code, problems = promtool(text)
    assert (code, problems) == (0, []), text


def test_label_values_are_exact_and_conventional(obs, oa, mocks):
    mocks["bedrock_mock"].reset()
    assert chat(obs, "openai/gpt-4.1")[0] == 200
    assert chat(obs, "claude-bedrock")[0] == 200
    # embeddings: another operation
    status, _, _ = http("POST", obs.base + "/v1/embeddings", {"model": "text-embedding-3-small", "input": "hi"},
                        {"content-type": "application/json"})
    assert status == 200
    text = prometheus(obs)
    req = [(ls, v) for n, ls, v in series(text) if n == "llmgw_requests_total"]
    want = [
        {"gen_ai_operation_name": "chat", "gen_ai_provider_name": "openai", "llm_provider": "openai",
         "gen_ai_request_model": "openai/gpt-4.1", "gen_ai_response_model": "gpt-4.1", "llm_key": "none"},
        {"gen_ai_operation_name": "chat", "gen_ai_provider_name": "aws.bedrock", "llm_provider": "bedrock",
         "gen_ai_request_model": "claude-bedrock",
         "gen_ai_response_model": "anthropic.claude-3-5-sonnet-20240620-v1:0", "llm_key": "none"},
        {"gen_ai_operation_name": "embeddings", "gen_ai_provider_name": "openai", "llm_provider": "openai",
         "gen_ai_request_model": "text-embedding-3-small", "gen_ai_response_model": "text-embedding-3-small",
         "llm_key": "none"},
    ]
    for w in want:
        assert (w, 1.0) in req, req


def test_error_series_exist_from_the_start(obs):
    text = prometheus(obs)
    types = {"incomplete", "implausible_usage", "rate_limited", "upstream", "invalid_request", "stream"}
    for model, provider in [("vertex-claude", "gcp.vertex_ai"), ("azure-gpt", "azure.ai.openai"),
                            ("gemini-flash", "gcp.gemini"), ("groq-llama", "groq")]:
        got = {ls["error_type"]: v for n, ls, v in series(text) if n == "llmgw_errors_total"
               and ls.get("gen_ai_request_model") == model and ls.get("gen_ai_operation_name") == "chat"}
        assert got == {t: 0.0 for t in types}, (model, got)
        assert any(ls.get("gen_ai_provider_name") == provider for n, ls, _ in series(text)
                   if n == "llmgw_errors_total" and ls.get("gen_ai_request_model") == model)


def test_every_refusal_is_counted_by_endpoint_reason_and_status(obs, oa):
    def refusals(**labels):
        return value(prometheus(obs), "llmgw_refusals_total", **labels)

    cases = [
        (lambda: http("POST", obs.base + "/v1/chat/completions", b"{not json",
                      {"content-type": "application/json"}),
         400, {"llm_endpoint": "/v1/chat/completions", "reason": "invalid_request_error"}),
        (lambda: chat(obs, "nope-model"), 404,
         {"llm_endpoint": "/v1/chat/completions", "reason": "model_not_found"}),
        (lambda: http("GET", obs.base + "/v1/unknown/path"), 404, {"llm_endpoint": "other", "reason": "unknown_url"}),
        (lambda: http("POST", obs.base + "/v1/embeddings", {"model": "no-embed"},
                      {"content-type": "application/json"}),
         400, {"llm_endpoint": "/v1/embeddings", "reason": "invalid_request_error"}),
        (lambda: http("GET", obs.base + "/v1/messages"), 405,
         {"llm_endpoint": "/v1/messages", "reason": "method_not_allowed"}),
    ]
    for send, status, labels in cases:
        labels["http_response_status_code"] = str(status)
        before = refusals(**labels)
        assert send()[0] == status, labels
        assert refusals(**labels) == before + 1, labels
    # Refusals exist at zero before any: alerts on them work from the start.
    assert ("llmgw_refusals_total", {"llm_endpoint": "/v1/messages", "reason": "budget_exceeded",
                                     "http_response_status_code": "429"}, 0.0) in series(prometheus(obs))


def test_genai_histograms_in_seconds_and_tokens(obs, oa):
    oa.reset()
    status, _, body = chat(obs, "openai/gpt-4.1-mini")
    assert status == 200
    usage = json.loads(body)["usage"]
    status, _, _ = chat(obs, "openai/gpt-4.1-mini", stream=True)
    assert status == 200
    labels = {"gen_ai_operation_name": "chat", "gen_ai_provider_name": "openai", "llm_provider": "openai",
              "gen_ai_request_model": "openai/gpt-4.1-mini", "gen_ai_response_model": "gpt-4.1-mini"}
    # Workers add their observations into shared data on their tick (within a second).
    text = llm_metrics_when(obs, lambda t: value(t, "gen_ai_client_operation_duration_seconds_count", **labels) == 2)
    assert value(text, "gen_ai_client_operation_duration_seconds_count", **labels) == 2, text
    assert value(text, "gen_ai_client_token_usage_sum", gen_ai_token_type="input", **labels) >= usage["prompt_tokens"]
    assert value(text, "gen_ai_client_token_usage_count", gen_ai_token_type="output", **labels) == 2
    assert value(text, "gen_ai_client_operation_time_to_first_chunk_seconds_count", **labels) == 1
    # Seconds: a loopback call takes well under 10 s, and the +Inf bucket holds all.
    total = value(text, "gen_ai_client_operation_duration_seconds_sum", **labels)
    assert 0 <= total < 10
    assert value(text, "gen_ai_client_operation_duration_seconds_bucket", le="+Inf", **labels) == 2
    # A failed call carries error_type.
    status, _, _ = obs.chat({"model": "openai/gpt-4.1-mini", "messages": [{"role": "user", "content": "x"}]},
                            {"x-mock-status": "503"})
    assert status == 503
    failed = dict(labels, error_type="upstream")
    text = llm_metrics_when(obs, lambda t: value(t, "gen_ai_client_operation_duration_seconds_count", **failed) == 1)
    assert value(text, "gen_ai_client_operation_duration_seconds_count", **failed) == 1, text
    assert value(text, "gen_ai_client_token_usage_count", **failed) == 0


def test_usage_report_has_iso_dates_and_ops_endpoints_need_an_admin_key(secured):
    status, _, body = http("GET", secured.base + "/v1/usage", headers={"authorization": f"Bearer {ADMIN}"})
    assert status == 200, body
    report = json.loads(body)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert report["day"] == today and report["month"] == today[:7]
    assert http("GET", secured.base + "/llm/metrics")[0] == 401
    assert http("GET", secured.base + "/llm/metrics", headers={"authorization": f"Bearer {APP}"})[0] == 403
    llm_metrics(secured, {"authorization": f"Bearer {ADMIN}"})
    assert http("GET", secured.base + "/llm/nothing-here", headers={"authorization": f"Bearer {ADMIN}"})[0] == 404


def log_entries(e, pred, timeout=10.0):
    """Parsed JSON access-log lines matching `pred` (Envoy writes them asynchronously)."""
    deadline = time.time() + timeout
    while True:
        entries = [json.loads(line) for line in e.access_log().splitlines() if line.startswith("{")]
        found = [x for x in entries if pred(x)]
        if found or time.time() > deadline:
            return found
        time.sleep(0.1)


def fields(llm):
    return dict(kv.split("=", 1) for kv in llm.split(" "))


def test_json_access_log_says_what_the_client_asked_and_why(obs, gm):
    rid = "obs-req-1"
    status, _, _ = obs.chat({"model": "gemini-flash", "messages": [{"role": "user", "content": "hi"}],
                             "stream": True}, {"x-request-id": rid})
    assert status == 200
    [entry] = log_entries(obs, lambda x: x["request_id"] == rid)
    # Envoy's path is the upstream's; the filter's value has the client's.
    assert entry["upstream_path"].startswith("/v1beta/models/gemini-2.5-flash:streamGenerateContent")
    f = fields(entry["llm"])
    assert (f["path"], f["request_id"], f["request_model"], f["model"], f["provider"]) == (
        "/v1/chat/completions", rid, "gemini-flash", "gemini-2.5-flash", "gemini")
    assert int(f["ttft_ms"]) >= 0 and f["strategy"] == "weighted" and f["candidates"] == "1"
    assert f["attempts"] == "1" and "skipped" not in f and f["finish_reasons"] == "stop"

    rid = "obs-req-2"
    status, _, _ = obs.chat({"model": "smart", "messages": [{"role": "user", "content": "hi"}]},
                            {"x-request-id": rid})
    assert status == 200
    [entry] = log_entries(obs, lambda x: x["request_id"] == rid)
    assert fields(entry["llm"])["candidates"] == "2"

    rid = "obs-req-3"
    assert obs.chat({"model": "missing-model", "messages": [{"role": "user", "content": "x"}]},
                    {"x-request-id": rid})[0] == 404
    [entry] = log_entries(obs, lambda x: x["request_id"] == rid)
    f = fields(entry["llm"])
    assert (f["status"], f["error"], f["path"], f["request_id"], f["refused"]) == (
        "404", "model_not_found", "/v1/chat/completions", rid, "model_not_found")


def test_decision_header_for_admin_keys_only(secured):
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    status, h, _ = secured.chat(body, {"authorization": f"Bearer {ADMIN}"})
    assert status == 200
    assert h["x-llm-decision"] == "strategy=weighted candidates=1 attempts=1"
    status, h, _ = secured.chat(body, {"authorization": f"Bearer {APP}"})
    assert status == 200 and "x-llm-decision" not in {k.lower() for k in h}
    # a refusal explains itself to an admin too
    status, h, _ = secured.chat(dict(body, model="nope"), {"authorization": f"Bearer {ADMIN}"})
    assert status == 404 and h["x-llm-decision"] == "refused=model_not_found"


def attrs(span):
    out = {}
    for a in span["attributes"]:
        v = a["value"]
        out[a["key"]] = v.get("stringValue", v.get("intValue", v.get("arrayValue")))
    return out


def with_collector(collector, traces=None):
    """An `edit` for Envoy(): a cluster `otel` on the collector's port."""
    def edit(doc):
        add_cluster(doc, collector)
        if traces is not None:  # a config file's own plugin configuration
            hcm = doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
            wasm = next(f for f in hcm["http_filters"] if f["name"] == "llm-gateway")
            conf = wasm["typed_config"]["config"]["configuration"]
            cfg = json.loads(conf["value"])
            cfg["traces"] = traces
            conf["value"] = json.dumps(cfg)
    return edit


@pytest.fixture(scope="module")
def traced(mocks):
    col = Collector()
    cfg = demo_plugin_config()
    cfg["traces"] = {"cluster": "otel", "service_name": "gw-e2e", "flush_ms": 200}
    e = Envoy(mocks, plugin_config=cfg, name="observability-traced", edit=with_collector(col))
    yield e, col
    e.stop()
    col.stop()


def test_each_call_is_a_span_in_the_callers_trace(traced, an):
    e, col = traced
    trace, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    status, _, body = e.chat({"model": "claude-sonnet", "messages": [{"role": "user", "content": "hi"}]},
                             {"traceparent": f"00-{trace}-{parent}-01"})
    assert status == 200
    usage = json.loads(body)["usage"]
    [rec] = an.requests()
    # The provider request carries the gateway's span as its parent.
    _, sent_trace, sent_span, flags = rec["headers"]["traceparent"].split("-")
    assert (sent_trace, flags) == (trace, "01") and sent_span != parent
    [span] = col.span(lambda s: s["traceId"] == trace)
    assert span["service"] == "gw-e2e"
    assert (span["spanId"], span["parentSpanId"], span["kind"]) == (sent_span, parent, 3)
    assert span["name"] == "chat claude-sonnet" and span["status"].get("code", 0) == 0
    a = attrs(span)
    assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.provider.name"] == "anthropic"
    assert a["gen_ai.request.model"] == "claude-sonnet" and a["gen_ai.response.model"] == "claude-sonnet-4-5"
    assert a["gen_ai.usage.input_tokens"] == str(usage["prompt_tokens"])
    assert a["gen_ai.usage.output_tokens"] == str(usage["completion_tokens"])
    assert "error.type" not in a and a["llm.attempts"] == "1"
    assert int(span["endTimeUnixNano"]) >= int(span["startTimeUnixNano"]) > 0


def test_a_trace_the_caller_does_not_sample_is_not_recorded(traced, an):
    e, col = traced
    skipped, kept = "5bf92f3577b34da6a3ce929d0e0e4736", "6bf92f3577b34da6a3ce929d0e0e4736"
    body = {"model": "claude-sonnet", "messages": [{"role": "user", "content": "hi"}]}
    status, _, _ = e.chat(body, {"traceparent": f"00-{skipped}-00f067aa0ba902b7-00"})
    assert status == 200
    # The provider is told the trace is not sampled.
    [rec] = [r for r in an.requests() if skipped in r["headers"].get("traceparent", "")]
    assert rec["headers"]["traceparent"].endswith("-00")
    for _ in range(4):  # connections spread over both workers
        status, _, _ = e.chat(body, {"traceparent": f"00-{kept}-00f067aa0ba902b7-01"})
        assert status == 200
    assert col.span(lambda s: s["traceId"] == kept)
    time.sleep(1.0)  # five export periods of every worker (flush_ms 200)
    assert not [s for s in col.spans if s["traceId"] == skipped]


def test_a_broken_stream_is_an_error_span_and_b3_joins(traced, oa):
    e, col = traced
    trace = "a3ce929d0e0e4736"
    try:  # the client sees the stream cut
        e.chat({"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "cut me"}]},
               {"x-mock-cut-after-events": "1", "x-b3-traceid": trace,
                "x-b3-spanid": "00f067aa0ba902b7", "x-b3-sampled": "1"})
    except http_client.IncompleteRead:
        pass
    [span] = col.span(lambda s: s["traceId"] == "0" * 16 + trace)
    a = attrs(span)
    assert span["status"]["code"] == 2
    assert a["error.type"] == "incomplete" and a["gen_ai.request.stream"] == "true", a
    assert a["gen_ai.provider.name"] == "openai" and a["gen_ai.request.model"] == "gpt-4o-mini"


def test_a_failover_is_one_span_with_two_attempts(mocks):
    col = Collector()
    oa, an = Mock("fo-trace-openai"), Mock("fo-trace-anthropic")
    e = Envoy(config_file=ROOT / "envoy-config" / "failover.yaml", ports={18081: oa, 18082: an},
              edit=with_collector(col, {"cluster": "otel", "flush_ms": 200}), name="observability-failover")
    try:
        oa.faults([{"status": 503}])
        status, h, _ = e.chat({"model": "smart-failover", "messages": [{"role": "user", "content": "hi"}]})
        assert status == 200 and h["x-envoy-attempt-count"] == "2"
        [span] = col.span(lambda s: True)
        a = attrs(span)
        assert a["llm.attempts"] == "2" and a["gen_ai.provider.name"] == "anthropic"
        assert a["gen_ai.response.model"] == "claude-sonnet-4-5" and "error.type" not in a
        # both attempts carried the same trace context
        [first] = oa.requests()
        [second] = an.requests()
        assert first["headers"]["traceparent"] == second["headers"]["traceparent"]
        assert second["headers"]["traceparent"].split("-")[2] == span["spanId"]
    finally:
        e.stop()
        oa.stop()
        an.stop()
        col.stop()


def test_a_hanging_collector_drops_spans_and_costs_requests_nothing(mocks, oa):
    """Behaviour only (no timing): every request is answered while the collector holds
    each export call past its timeout; the spans are dropped and counted."""
    col = Collector(hang=3.0)
    cfg = demo_plugin_config()
    cfg["traces"] = {"cluster": "otel", "flush_ms": 100, "timeout_ms": 200, "max_queue": 4}
    e = Envoy(mocks, plugin_config=cfg, name="observability-hang", edit=with_collector(col), concurrency=1)
    try:
        for _ in range(10):
            assert chat(e, "gpt-4o-mini")[0] == 200
        deadline = time.time() + 10
        dropped = 0
        while time.time() < deadline:
            dropped = value(prometheus(e), "llmgw_trace_spans_dropped_total")
            if dropped >= 10:
                break
            time.sleep(0.2)
        assert dropped == 10, dropped
        assert col.calls >= 1
    finally:
        e.stop()
        col.stop()


# ---------- finish reasons, time per output chunk, content capture ----------

CONTENT_ATTRS = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions")


def new_trace():
    return "%032x" % random.getrandbits(128)


def traced_call(e, path, body, headers=None):
    """POSTs `body` to `path` in a new trace: (status, response body, trace id)."""
    trace = new_trace()
    h = {"content-type": "application/json", "traceparent": f"00-{trace}-00f067aa0ba902b7-01"}
    h.update(headers or {})
    status, _, raw = http("POST", e.base + path, body, h, timeout=30)
    return status, raw, trace


def sse_data(raw):
    """The JSON data of each SSE event (`[DONE]` left out)."""
    return [json.loads(line[len("data: "):]) for line in raw.decode().splitlines()
            if line.startswith("data: ") and line != "data: [DONE]"]


def span_of(col, trace):
    [span] = col.span(lambda s: s["traceId"] == trace)
    return attrs(span)


def reasons(a):
    return [v["stringValue"] for v in a["gen_ai.response.finish_reasons"]["values"]]


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-sonnet", "gemini-flash"])
def test_finish_reasons_on_spans_are_what_the_client_got(traced, model):
    """Buffered and streamed, cut by max_tokens or not: the span's finish reasons are the
    ones in the answer the client read; without capture no content is on the span."""
    e, col = traced
    for stream, max_tokens, expected in [(False, None, "stop"), (False, 2, "length"),
                                         (True, None, "stop"), (True, 2, "length")]:
        body = {"model": model, "messages": [{"role": "user", "content": "tell me three things"}],
                "stream": stream}
        if max_tokens:
            body["max_tokens"] = max_tokens
        status, raw, trace = traced_call(e, "/v1/chat/completions", body)
        assert status == 200, raw
        if stream:
            served = [c["choices"][0]["finish_reason"] for c in sse_data(raw)
                      if c.get("choices") and c["choices"][0].get("finish_reason")]
        else:
            served = [json.loads(raw)["choices"][0]["finish_reason"]]
        assert served == [expected], (model, stream, max_tokens)
        a = span_of(col, trace)
        assert reasons(a) == served, (model, stream, a)
        assert not set(CONTENT_ATTRS) & set(a), a


def test_finish_reasons_of_messages_and_responses_answers(traced):
    e, col = traced
    body = {"model": "claude-sonnet", "max_tokens": 2, "messages": [{"role": "user", "content": "one two three"}]}
    status, raw, trace = traced_call(e, "/v1/messages", body)
    assert status == 200 and json.loads(raw)["stop_reason"] == "max_tokens", raw
    assert reasons(span_of(col, trace)) == ["length"]
    body = {"model": "gpt-4o-mini", "input": "one two three", "stream": True}
    status, raw, trace = traced_call(e, "/v1/responses", body)
    assert status == 200 and sse_data(raw)[-1]["response"]["status"] == "completed", raw
    assert reasons(span_of(col, trace)) == ["stop"]


def test_time_per_output_chunk_counts_each_chunk_after_the_first(traced, oa):
    """A stream whose events come 30 ms apart: one observation per event the client read,
    but the first."""
    e, _ = traced
    labels = {"gen_ai_operation_name": "chat", "gen_ai_request_model": "gpt-4o-mini"}
    name = "gen_ai_client_operation_time_per_output_chunk_seconds_count"
    before = value(llm_metrics(e), name, **labels)
    body = {"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "a b c"}]}
    status, _, raw = e.chat(body, {"x-mock-event-delay-ms": "30"})
    assert status == 200
    events = [l for l in raw.decode().splitlines() if l.startswith("data: ")]
    assert events[-1] == "data: [DONE]" and len(events) >= 5
    want = before + len(events) - 1
    text = llm_metrics_when(e, lambda t: value(t, name, **labels) >= want)
    assert value(text, name, **labels) == want, text
    # seconds: each gap is about 30 ms, well under the 2.5 s top bound
    assert value(text, "gen_ai_client_operation_time_per_output_chunk_seconds_bucket", le="2.5",
                 **labels) == want
    code, problems = promtool(text)
    assert code == 0, problems


@pytest.fixture(scope="module")
def captured(mocks):
    col = Collector()
    cfg = demo_plugin_config()
    cfg["traces"] = {"cluster": "otel", "flush_ms": 200, "capture_content": True, "capture_max_bytes": 1024}
    e = Envoy(mocks, plugin_config=cfg, name="observability-capture", edit=with_collector(col),
              concurrency=1)
    yield e, col
    e.stop()
    col.stop()


CLIENT_KEY = "sk-e2e-client-0123456789"


def content(a, key):
    return json.loads(a[key])


def test_captured_prompt_and_completion_are_redacted(captured):
    e, col = captured
    provider_key = KEYS["DEMO_ANTHROPIC_KEY"]
    prompt = f"my keys are {provider_key} and {CLIENT_KEY} ok"
    body = {"model": "claude-sonnet", "messages": [{"role": "system", "content": "be brief"},
                                                   {"role": "user", "content": prompt}]}
    status, raw, trace = traced_call(e, "/v1/chat/completions", body,
                                     {"authorization": f"Bearer {CLIENT_KEY}"})
    assert status == 200, raw
    answer = json.loads(raw)["choices"][0]["message"]["content"]
    assert provider_key in answer  # the mock echoes the prompt
    a = span_of(col, trace)
    for k in CONTENT_ATTRS[:2]:
        assert provider_key not in a[k] and CLIENT_KEY not in a[k], a[k]
    assert content(a, "gen_ai.input.messages") == [
        {"role": "system", "parts": [{"type": "text", "content": "be brief"}]},
        {"role": "user", "parts": [{"type": "text", "content": "my keys are [REDACTED] and [REDACTED] ok"}]}]
    clean = answer.replace(provider_key, "[REDACTED]").replace(CLIENT_KEY, "[REDACTED]")
    assert content(a, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": clean}], "finish_reason": "stop"}]


def test_a_streamed_completion_is_captured_as_the_client_read_it(captured):
    e, col = captured
    body = {"model": "gemini-flash", "stream": True, "messages": [{"role": "user", "content": "hello there"}]}
    status, raw, trace = traced_call(e, "/v1/chat/completions", body)
    assert status == 200
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in sse_data(raw) if c.get("choices"))
    assert text
    a = span_of(col, trace)
    assert content(a, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": "stop"}]
    # /v1/messages keeps its system prompt apart
    body = {"model": "claude-sonnet", "max_tokens": 50, "system": "sys words",
            "messages": [{"role": "user", "content": "hi"}]}
    status, raw, trace = traced_call(e, "/v1/messages", body)
    assert status == 200
    a = span_of(col, trace)
    assert content(a, "gen_ai.system_instructions") == [{"type": "text", "content": "sys words"}]
    assert content(a, "gen_ai.output.messages")[0]["parts"][0]["content"] == json.loads(raw)["content"][0]["text"]


def test_a_long_prompt_is_capped_at_the_configured_size(captured):
    e, col = captured
    long = "ü" * 5000
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": long}]}
    status, _, trace = traced_call(e, "/v1/chat/completions", body)
    assert status == 200
    a = span_of(col, trace)
    for k in ("gen_ai.input.messages", "gen_ai.output.messages"):
        assert len(a[k].encode()) <= 1024, (k, len(a[k].encode()))
    text = content(a, "gen_ai.input.messages")[0]["parts"][0]["content"]
    assert text.endswith("…[truncated]") and set(text[:-len("…[truncated]")]) == {"ü"}
    assert len(text) > 300  # the cap is used, not wasted
