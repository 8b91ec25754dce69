"""Bedrock Converse / ConverseStream through real Envoy with the official openai SDK:
chat, streaming (binary event stream → SSE), tools round trip, image bytes, throttling,
and the SigV4 signature checked against botocore on the request the mock received."""

import base64
import datetime
import hashlib
import json
import subprocess
import sys
import time
from unittest import mock

import openai
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import KEYS, ROOT, http

MODEL = "claude-bedrock"
UPSTREAM = "anthropic.claude-3-5-sonnet-20240620-v1:0"
PATH = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
HOST = "bedrock-runtime.us-east-1.amazonaws.com"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def client(gateway):
    return openai.OpenAI(base_url=gateway.base + "/v1", api_key="sk-client-secret", max_retries=0)


def botocore_authorization(rec):
    """Sign what the mock received, with botocore, at the time the filter put in x-amz-date."""
    h = rec["headers"]
    req = AWSRequest(method="POST", url=f"https://{h['host']}{rec['path']}", data=rec["body"].encode(),
                     headers={"Content-Type": h["content-type"], "X-Amz-Content-SHA256": h["x-amz-content-sha256"]})
    creds = Credentials(KEYS["DEMO_AWS_ACCESS_KEY_ID"], KEYS["DEMO_AWS_SECRET_ACCESS_KEY"],
                        KEYS["DEMO_AWS_SESSION_TOKEN"])
    when = datetime.datetime.strptime(h["x-amz-date"], "%Y%m%dT%H%M%SZ")
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        SigV4Auth(creds, "bedrock", "us-east-1").add_auth(req)
    return req.headers["Authorization"]


def check_signed(rec):
    h = rec["headers"]
    assert h["host"] == HOST
    assert h["x-amz-content-sha256"] == hashlib.sha256(rec["body"].encode()).hexdigest()
    assert h["x-amz-security-token"] == KEYS["DEMO_AWS_SESSION_TOKEN"]
    signed_at = datetime.datetime.strptime(h["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - signed_at).total_seconds()) < 120
    assert h["authorization"] == botocore_authorization(rec)
    assert h["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + h["x-amz-date"][:8] + "/us-east-1/bedrock/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=")
    assert "sk-client-secret" not in json.dumps(rec)
    assert KEYS["DEMO_AWS_SECRET_ACCESS_KEY"] not in json.dumps(rec)


def test_sdk_chat_is_translated_and_signed(gateway, bedrock):
    resp = client(gateway).chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hello"},
            {"role": "user", "content": "there"},
        ],
        stop=["zzz"],
        temperature=0.5,
        max_tokens=50,
    )
    assert resp.choices[0].message.content == "mock bedrock says: hellothere"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.model == UPSTREAM
    assert resp.id == "chatcmpl-req_mock_1"
    [rec] = bedrock.requests()
    assert rec["path"] == PATH
    assert json.loads(rec["body"]) == {
        "messages": [{"role": "user", "content": [{"text": "hello"}, {"text": "there"}]}],
        "system": [{"text": "be brief"}],
        "inferenceConfig": {"maxTokens": 50, "temperature": 0.5, "stopSequences": ["zzz"]},
    }
    check_signed(rec)
    u = rec["usage"]
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens) == (u["prompt_tokens"], u["completion_tokens"])


@pytest.mark.parametrize("chunk_bytes", [None, 1, 7])
@pytest.mark.parametrize("include_usage", [True, False])
def test_sdk_stream_from_binary_event_stream(gateway, bedrock, chunk_bytes, include_usage):
    headers = {"x-mock-chunk-bytes": str(chunk_bytes)} if chunk_bytes else {}
    raw = client(gateway).chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "stream me please"}], stream=True,
        stream_options={"include_usage": include_usage}, extra_headers=headers)
    assert raw.headers["content-type"].startswith("text/event-stream")
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "mock bedrock says: stream me please"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    [rec] = bedrock.requests()
    assert rec["path"] == PATH + "-stream"
    assert rec["headers"]["accept"] == "application/vnd.amazon.eventstream"
    check_signed(rec)
    usage_chunks = [c for c in chunks if c.usage]
    if include_usage:
        [uc] = usage_chunks
        assert (uc.usage.prompt_tokens, uc.usage.completion_tokens) == (
            rec["usage"]["prompt_tokens"], rec["usage"]["completion_tokens"])
    else:
        assert usage_chunks == []


@pytest.mark.parametrize("stream", [False, True])
def test_sdk_tool_round_trip(gateway, bedrock, stream):
    c = client(gateway)
    messages = [{"role": "user", "content": "weather in Paris?"}]
    if stream:
        chunks = list(c.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER],
                                                tool_choice="required", stream=True))
        calls = {}
        for ch in chunks:
            for d in (ch.choices[0].delta.tool_calls or []) if ch.choices else []:
                cur = calls.setdefault(d.index, {"id": None, "name": None, "arguments": ""})
                cur["id"] = d.id or cur["id"]
                cur["name"] = (d.function.name if d.function else None) or cur["name"]
                cur["arguments"] += (d.function.arguments or "") if d.function else ""
        [call] = calls.values()
        assert [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason] == [
            "tool_calls"]
        call_id, name, args = call["id"], call["name"], call["arguments"]
    else:
        resp = c.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER], tool_choice="required")
        assert resp.choices[0].finish_reason == "tool_calls"
        [tc] = resp.choices[0].message.tool_calls
        call_id, name, args = tc.id, tc.function.name, tc.function.arguments
    assert (name, json.loads(args)) == ("get_weather", {"city": "mock"})
    assert call_id.startswith("tooluse_mock_")
    first = json.loads(bedrock.requests()[0]["body"])
    assert first["toolConfig"] == {
        "tools": [{"toolSpec": {"name": "get_weather", "description": "Weather for a city",
                                "inputSchema": {"json": WEATHER["function"]["parameters"]}}}],
        "toolChoice": {"any": {}},
    }

    messages += [
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}]},
        {"role": "tool", "tool_call_id": call_id, "content": "sunny, 21C"},
    ]
    resp = c.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert resp.choices[0].message.content == "mock bedrock got tool result: sunny, 21C"
    second = json.loads(bedrock.requests()[-1]["body"])
    assert second["messages"][1:] == [
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": call_id, "name": "get_weather",
                                                       "input": {"city": "mock"}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": call_id, "content": [{"text": "sunny, 21C"}]}}]},
    ]
    for rec in bedrock.requests():
        check_signed(rec)


def test_image_bytes_and_url_refused(gateway, bedrock):
    resp = client(gateway).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
    ]}])
    assert resp.choices[0].message.content == "mock bedrock says: what is this [images: 1]"
    body = json.loads(bedrock.requests()[0]["body"])
    assert body["messages"][0]["content"] == [
        {"text": "what is this"},
        {"image": {"format": "png", "source": {"bytes": PNG}}},
    ]
    assert base64.b64decode(body["messages"][0]["content"][1]["image"]["source"]["bytes"]).startswith(b"\x89PNG")

    with pytest.raises(openai.BadRequestError) as e:
        client(gateway).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}]}])
    assert e.value.status_code == 400
    assert e.value.body["param"] == "messages[0].content[0].image_url.url"
    assert "cannot fetch image URLs" in e.value.body["message"]
    assert len(bedrock.requests()) == 1  # the refused request never reached Bedrock


def test_throttling_becomes_429(gateway, bedrock):
    with pytest.raises(openai.RateLimitError) as e:
        client(gateway).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}],
                                                extra_headers={"x-mock-status": "429"})
    assert e.value.status_code == 429
    assert e.value.body["code"] == "ThrottlingException"
    assert e.value.body["type"] == "rate_limit_error"
    assert e.value.body["message"] == "Too many requests, please wait before trying again."
    for status, code, expected in [(408, "ModelTimeoutException", 504), (403, "AccessDeniedException", 403),
                                   (400, "ValidationException", 400), (503, "ServiceUnavailableException", 503)]:
        s, _, body = gateway.chat({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
                                  {"x-mock-status": str(status)})
        assert s == expected, body
        assert json.loads(body)["error"]["code"] == code


def test_throttling_mid_stream_becomes_error_event(gateway, bedrock):
    status, headers, body = gateway.chat(
        {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "one two three"}]},
        {"x-mock-error-after-events": "3", "x-mock-error-status": "429", "x-mock-chunk-bytes": "5"})
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    events = [e for e in body.decode().split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    err = json.loads(events[-2].removeprefix("data: "))
    assert err["error"]["code"] == "ThrottlingException"
    assert err["error"]["type"] == "rate_limit_error"
    text = "".join(json.loads(e[6:])["choices"][0]["delta"].get("content") or "" for e in events[:-2])
    assert text == "mock bedrock "  # messageStart and two deltas, then the exception


def test_requests_and_tokens_are_counted(gateway, bedrock):
    label = "anthropic.claude-3-5-sonnet-20240620-v1:0"  # labels keep dots and colons
    before = {n: gateway.counter(n, MODEL, "bedrock", label)
              for n in ("llmgw_requests_total", "llmgw_prompt_tokens_total", "llmgw_completion_tokens_total")}
    client(gateway).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "count me"}])
    list(client(gateway).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "and me"}],
                                                 stream=True))
    recs = bedrock.requests()
    assert len(recs) == 2
    want = {
        "llmgw_requests_total": 2,
        "llmgw_prompt_tokens_total": sum(r["usage"]["prompt_tokens"] for r in recs),
        "llmgw_completion_tokens_total": sum(r["usage"]["completion_tokens"] for r in recs),
    }
    # Counters are flushed by Envoy's stats machinery; poll briefly.
    deadline = time.time() + 10
    while time.time() < deadline:
        got = {n: gateway.counter(n, MODEL, "bedrock", label) - before[n] for n in want}
        if got == want:
            break
        time.sleep(0.2)
    assert got == want


def test_golden_transcripts_decode_with_botocore():
    """The binary golden transcripts match their specs and botocore's decoder (which checks
    both CRCs) accepts the valid ones and rejects the corrupt ones."""
    r = subprocess.run([sys.executable, str(ROOT / "filter/testdata/bedrock/streams/gen.py"), "--check"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_mock_stream_decodes_with_botocore(mocks):
    """The mock's ConverseStream framing is what botocore expects from Bedrock."""
    from botocore.eventstream import EventStreamBuffer

    m = mocks["bedrock_mock"]
    status, headers, body = http("POST", m.base + PATH + "-stream",
                                 {"messages": [{"role": "user", "content": [{"text": "hi"}]}]},
                                 {"content-type": "application/json"})
    assert status == 200 and headers["content-type"] == "application/vnd.amazon.eventstream"
    buf = EventStreamBuffer()
    buf.add_data(body)
    kinds = [msg.headers[":event-type"] for msg in buf]
    assert kinds == ["messageStart"] + ["contentBlockDelta"] * 4 + ["contentBlockStop", "messageStop", "metadata"]
