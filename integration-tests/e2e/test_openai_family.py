"""Azure OpenAI, an OpenAI-compatible preset (Groq), /v1/embeddings and the OpenAI→Anthropic
depth items (response_format, reasoning_effort, strict mode), through real Envoy."""

import base64
import json
import struct

import openai
import pytest

from harness import Envoy, demo_plugin_config


def client(gateway):
    return openai.OpenAI(base_url=gateway.base + "/v1", api_key="sk-client-secret", max_retries=0)


def test_azure_chat_uses_deployment_path_and_api_key(gateway, az):
    resp = client(gateway).chat.completions.create(
        model="azure-gpt", messages=[{"role": "user", "content": "hi azure"}])
    assert resp.choices[0].message.content == "mock azure says: hi azure"
    [rec] = az.requests()
    assert rec["path"] == "/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21"
    assert rec["headers"]["api-key"] == "azure-demo-key"
    assert rec["headers"]["host"] == "demo.openai.azure.com"
    assert "authorization" not in rec["headers"]
    # Azure ignores body.model for deployment paths; the gateway sends the deployment name.
    assert json.loads(rec["body"])["model"] == "gpt-4o-prod"


def test_azure_stream_and_tools(gateway, az):
    c = client(gateway)
    chunks = list(c.chat.completions.create(
        model="azure-gpt", messages=[{"role": "user", "content": "a b"}], stream=True,
        stream_options={"include_usage": True}))
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == "mock azure says: a b"
    [rec] = az.requests()
    assert chunks[-1].usage.completion_tokens == rec["usage"]["completion_tokens"]
    tool = {"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}}}}
    resp = c.chat.completions.create(model="azure-gpt", messages=[{"role": "user", "content": "x"}],
                                     tools=[tool])
    assert resp.choices[0].message.tool_calls[0].function.arguments == '{"q":"mock"}'


def test_azure_deployment_name_is_checked(gateway, az):
    with pytest.raises(openai.BadRequestError) as e:
        client(gateway).chat.completions.create(
            model="azure/dep%2F..", messages=[{"role": "user", "content": "x"}])
    assert "deployment" in str(e.value)
    assert az.requests() == []


def test_azure_mock_refuses_missing_api_version(az):
    from harness import http
    status, _, body = http("POST", az.base + "/openai/deployments/d/chat/completions", b"{}")
    assert status == 404 and json.loads(body)["error"]["message"] == "Resource not found"


def test_groq_preset_base_path_and_bearer(gateway, groq):
    resp = client(gateway).chat.completions.create(
        model="groq-llama", messages=[{"role": "user", "content": "fast"}], seed=3)
    assert resp.choices[0].message.content == "mock groq says: fast"
    [rec] = groq.requests()
    assert rec["path"] == "/openai/v1/chat/completions"
    assert rec["headers"]["authorization"] == "Bearer gsk-demo"
    assert rec["headers"]["host"] == "api.groq.com"
    assert json.loads(rec["body"]) == {"model": "llama-3.3-70b-versatile",
                                       "messages": [{"role": "user", "content": "fast"}], "seed": 3}


@pytest.mark.parametrize("model,mock_name,path", [
    ("text-embedding-3-small", "openai_mock", "/v1/embeddings"),
    ("azure-embed", "azure_mock", "/openai/deployments/embed-prod/embeddings?api-version=2024-10-21"),
])
def test_embeddings_sdk_base64_and_float(gateway, mocks, model, mock_name, path):
    mock = mocks[mock_name]
    mock.reset()
    before = gateway.counter("llmgw_prompt_tokens_total", model, mock_name.split("_")[0],
                             "text-embedding-3-small" if model == "text-embedding-3-small" else "embed-prod")
    c = client(gateway)
    # The SDK asks for base64 by default and decodes it.
    r1 = c.embeddings.create(model=model, input=["hello world", "bye"])
    r2 = c.embeddings.create(model=model, input="hello world", encoding_format="float", dimensions=4)
    assert [d.index for d in r1.data] == [0, 1]
    assert len(r1.data[0].embedding) == 8
    # Component k depends only on the input and k: the 4-dimension vector is a prefix.
    assert r2.data[0].embedding == r1.data[0].embedding[:4]
    assert all(abs(x) <= 1 for x in r1.data[0].embedding)
    assert r1.usage.prompt_tokens == 3 and r1.usage.total_tokens == 3
    recs = mock.requests()
    assert [r["path"] for r in recs] == [path, path]
    assert json.loads(recs[0]["body"])["encoding_format"] == "base64"
    upstream = "text-embedding-3-small" if model == "text-embedding-3-small" else "embed-prod"
    assert json.loads(recs[1]["body"])["model"] == upstream
    after = gateway.counter("llmgw_prompt_tokens_total", model, mock_name.split("_")[0], upstream)
    assert after - before == 3 + 2


def test_embeddings_vectors_are_deterministic_and_passed_through(gateway, oa):
    from harness import http
    status, headers, body = http("POST", gateway.base + "/v1/embeddings",
                                 {"model": "text-embedding-3-small", "input": [1, 2, 3], "encoding_format": "base64"},
                                 {"content-type": "application/json"})
    assert status == 200, body
    v = json.loads(body)
    raw = base64.b64decode(v["data"][0]["embedding"])
    floats = struct.unpack("<8f", raw)
    assert all(x * 1024 == int(x * 1024) for x in floats)
    assert v["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    assert headers["x-llm-provider"] == "openai"


@pytest.mark.parametrize("body,status,param", [
    ({"model": "text-embedding-3-small", "input": []}, 400, "input"),
    ({"model": "text-embedding-3-small", "input": ["a", ""]}, 400, "input"),
    ({"model": "text-embedding-3-small"}, 400, None),
    ({"model": "text-embedding-3-small", "input": "x", "encoding_format": "int8"}, 400, "encoding_format"),
    ({"model": "claude-sonnet", "input": "x"}, 400, "model"),
    ({"model": "nope", "input": "x"}, 404, "model"),
])
def test_embeddings_errors(gateway, oa, an, body, status, param):
    from harness import http
    s, _, out = http("POST", gateway.base + "/v1/embeddings", body, {"content-type": "application/json"})
    assert s == status, out
    err = json.loads(out)["error"]
    assert err["param"] == param
    assert oa.requests() == [] and an.requests() == []


def test_embeddings_upstream_error_keeps_status(gateway, oa):
    with pytest.raises(openai.RateLimitError):
        client(gateway).embeddings.create(model="text-embedding-3-small", input="x",
                                          extra_headers={"x-mock-status": "429"})


SCHEMA = {"name": "answer", "schema": {"type": "object", "properties": {"n": {"type": "integer"},
                                                                       "s": {"type": "string"}},
                                       "required": ["n", "s"]}}


@pytest.mark.parametrize("stream", [False, True])
def test_json_schema_via_anthropic_forced_tool(gateway, an, stream):
    kw = dict(model="claude-sonnet", messages=[{"role": "user", "content": "give json"}],
              response_format={"type": "json_schema", "json_schema": SCHEMA})
    if stream:
        chunks = list(client(gateway).chat.completions.create(stream=True, **kw))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        assert not any(c.choices[0].delta.tool_calls for c in chunks if c.choices)
    else:
        resp = client(gateway).chat.completions.create(**kw)
        text, finish = resp.choices[0].message.content, [resp.choices[0].finish_reason]
        assert resp.choices[0].message.tool_calls is None
    assert json.loads(text) == {"n": 1, "s": "mock"}
    assert finish == ["stop"]
    sent = json.loads(an.requests()[0]["body"])
    assert sent["tool_choice"] == {"type": "tool", "name": "json_response"}
    assert sent["tools"][0]["input_schema"] == SCHEMA["schema"]


def test_json_object_becomes_system_instruction(gateway, an):
    client(gateway).chat.completions.create(
        model="claude-sonnet", messages=[{"role": "user", "content": "x"}],
        response_format={"type": "json_object"})
    assert "JSON object" in json.loads(an.requests()[0]["body"])["system"]


@pytest.mark.parametrize("stream", [False, True])
def test_reasoning_effort_to_thinking_and_reasoning_content(gateway, an, stream):
    kw = dict(model="claude-sonnet", messages=[{"role": "user", "content": "why"}],
              reasoning_effort="low", temperature=0.2)
    if stream:
        chunks = list(client(gateway).chat.completions.create(stream=True, **kw))
        deltas = [c.choices[0].delta for c in chunks if c.choices]
        reasoning = "".join(getattr(d, "reasoning_content", None) or "" for d in deltas)
        text = "".join(d.content or "" for d in deltas)
    else:
        msg = client(gateway).chat.completions.create(**kw).choices[0].message
        reasoning, text = msg.reasoning_content, msg.content
    assert reasoning == "mock anthropic thinks about: why"
    assert text == "mock anthropic says: why"
    sent = json.loads(an.requests()[0]["body"])
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert sent["max_tokens"] == 2048 + 4096
    # Thinking takes no temperature: dropped (logged), not sent.
    assert "temperature" not in sent


def test_n_greater_than_one_is_refused_for_anthropic(gateway, an):
    with pytest.raises(openai.BadRequestError):
        client(gateway).chat.completions.create(model="claude-sonnet", n=2,
                                                messages=[{"role": "user", "content": "x"}])
    assert an.requests() == []


def test_unhonoured_fields_dropped_with_log_then_refused_in_strict_mode(gateway, mocks, an):
    client(gateway).chat.completions.create(model="claude-sonnet", seed=5, presence_penalty=0.5,
                                            messages=[{"role": "user", "content": "x"}])
    sent = json.loads(an.requests()[0]["body"])
    assert "seed" not in sent and "presence_penalty" not in sent
    assert "cannot honour: seed, presence_penalty" in gateway.log()

    cfg = dict(demo_plugin_config(), strict=True)
    strict = Envoy(mocks, plugin_config=cfg, concurrency=1, name="strict")
    try:
        with pytest.raises(openai.BadRequestError) as e:
            client(strict).chat.completions.create(model="claude-sonnet", seed=5,
                                                   messages=[{"role": "user", "content": "x"}])
        assert e.value.body["param"] == "seed"
        assert e.value.body["code"] == "unsupported_parameter"
        # OpenAI-format providers honour everything: strict changes nothing there.
        r = client(strict).chat.completions.create(model="gpt-4o-mini", seed=5,
                                                   messages=[{"role": "user", "content": "x"}])
        assert r.choices[0].message.content == "mock openai says: x"
    finally:
        strict.stop()
