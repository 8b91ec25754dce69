"""Chat through real Envoy with the official openai SDK, against both provider formats."""

import json

import openai
import pytest

from harness import demo_plugin_config


def client(gateway, **kw):
    return openai.OpenAI(base_url=gateway.base + "/v1", api_key="sk-client-secret", max_retries=0, **kw)


def test_openai_passthrough_is_byte_exact_except_model(gateway, oa):
    raw = b'{"model":"smart","messages":[{"role":"user","content":"hi \\u00e9","name":"bob"}],"logprobs":true,"seed":7}'
    # "smart" splits 80/20; retry until the OpenAI target is picked (bounded).
    for _ in range(60):
        status, headers, body = gateway.chat(raw, {"authorization": "Bearer sk-client-secret"})
        assert status == 200, body
        if headers["x-llm-provider"] == "openai":
            break
    else:
        pytest.fail("openai target never picked")
    rec = [r for r in oa.requests() if r["status"] == 200][-1]
    assert rec["path"] == "/v1/chat/completions"
    assert rec["body"].encode() == raw.replace(b'"smart"', b'"gpt-4o"')
    assert rec["headers"]["authorization"] == "Bearer sk-demo-openai"
    assert rec["headers"]["host"] == "api.openai.com"
    assert "x-llm-cluster" not in rec["headers"]
    assert headers["x-llm-model"] == "gpt-4o"


def test_sdk_chat_served_by_anthropic(gateway, an):
    resp = client(gateway).chat.completions.create(
        model="claude-sonnet",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "developer", "content": "no emojis"},
            {"role": "user", "content": "hello"},
            {"role": "user", "content": "there"},
        ],
        stop="zzz",
        temperature=0.5,
        user="u-1",
    )
    # The two user turns were merged into one message; the mock joins its text parts.
    assert resp.choices[0].message.content == "mock anthropic says: hellothere"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.model == "claude-sonnet-4-5"
    [rec] = an.requests()
    assert rec["path"] == "/v1/messages"
    assert rec["headers"]["x-api-key"] == "sk-ant-demo"
    assert rec["headers"]["anthropic-version"] == "2023-06-01"
    assert "authorization" not in rec["headers"]
    assert "sk-client-secret" not in json.dumps(rec)
    assert json.loads(rec["body"]) == {
        "model": "claude-sonnet-4-5",
        "system": "be brief\n\nno emojis",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hello"}, {"type": "text", "text": "there"}]}],
        "max_tokens": 4096,
        "stop_sequences": ["zzz"],
        "temperature": 0.5,
        "metadata": {"user_id": "u-1"},
    }
    u = rec["usage"]
    assert resp.usage.prompt_tokens == u["prompt_tokens"]
    assert resp.usage.completion_tokens == u["completion_tokens"]
    assert resp.usage.total_tokens == u["prompt_tokens"] + u["completion_tokens"]


@pytest.mark.parametrize("chunk_bytes", [None, 1, 7])
@pytest.mark.parametrize("include_usage", [True, False])
def test_sdk_stream_from_anthropic(gateway, an, chunk_bytes, include_usage):
    headers = {"x-mock-chunk-bytes": str(chunk_bytes)} if chunk_bytes else {}
    stream = client(gateway).chat.completions.create(
        model="claude-sonnet",
        messages=[{"role": "user", "content": "stream me please"}],
        stream=True,
        stream_options={"include_usage": include_usage},
        extra_headers=headers,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "mock anthropic says: stream me please"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    usage_chunks = [c for c in chunks if c.usage]
    [rec] = an.requests()
    if include_usage:
        assert len(usage_chunks) == 1 and usage_chunks[0].choices == []
        assert usage_chunks[0].usage.prompt_tokens == rec["usage"]["prompt_tokens"]
        assert usage_chunks[0].usage.completion_tokens == rec["usage"]["completion_tokens"]
    else:
        assert usage_chunks == []
    assert json.loads(rec["body"])["stream"] is True


@pytest.mark.parametrize("include_usage", [True, False])
def test_sdk_stream_from_openai_hides_injected_usage(gateway, oa, include_usage):
    kw = {"stream_options": {"include_usage": True}} if include_usage else {}
    chunks = list(client(gateway).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "a b c"}], stream=True, **kw))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "mock openai says: a b c"
    assert any(c.usage for c in chunks) == include_usage
    [rec] = oa.requests()
    # The gateway always asks for usage so that it can account the stream.
    assert json.loads(rec["body"])["stream_options"] == {"include_usage": True}


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.mark.parametrize("stream", [False, True])
def test_sdk_tool_round_trip_via_anthropic(gateway, an, stream):
    c = client(gateway)
    messages = [{"role": "user", "content": "weather in Paris?"}]
    if stream:
        chunks = list(c.chat.completions.create(model="claude-sonnet", messages=messages, tools=[WEATHER],
                                                tool_choice="required", stream=True))
        calls = {}
        for ch in chunks:
            for d in (ch.choices[0].delta.tool_calls or []) if ch.choices else []:
                cur = calls.setdefault(d.index, {"id": None, "name": None, "arguments": ""})
                cur["id"] = d.id or cur["id"]
                cur["name"] = (d.function.name if d.function else None) or cur["name"]
                cur["arguments"] += (d.function.arguments or "") if d.function else ""
        [call] = calls.values()
        finish = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
        assert finish == ["tool_calls"]
        call_id, name, args = call["id"], call["name"], call["arguments"]
    else:
        resp = c.chat.completions.create(model="claude-sonnet", messages=messages, tools=[WEATHER],
                                         tool_choice="required")
        assert resp.choices[0].finish_reason == "tool_calls"
        [tc] = resp.choices[0].message.tool_calls
        call_id, name, args = tc.id, tc.function.name, tc.function.arguments
    assert name == "get_weather"
    assert json.loads(args) == {"city": "mock"}
    assert call_id.startswith("toolu_mock_")
    first = json.loads(an.requests()[0]["body"])
    assert first["tools"] == [{"name": "get_weather", "description": "Weather for a city",
                               "input_schema": WEATHER["function"]["parameters"]}]
    assert first["tool_choice"] == {"type": "any"}

    messages += [
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}]},
        {"role": "tool", "tool_call_id": call_id, "content": "sunny, 21C"},
    ]
    resp = c.chat.completions.create(model="claude-sonnet", messages=messages, tools=[WEATHER])
    assert resp.choices[0].message.content == "mock anthropic got tool result: sunny, 21C"
    second = json.loads(an.requests()[-1]["body"])
    assert second["messages"][1:] == [
        {"role": "assistant", "content": [{"type": "tool_use", "id": call_id, "name": "get_weather",
                                           "input": {"city": "mock"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call_id,
                                      "content": [{"type": "text", "text": "sunny, 21C"}]}]},
    ]


def test_tool_calls_via_openai_format(gateway, oa):
    resp = client(gateway).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], tools=[WEATHER])
    [tc] = resp.choices[0].message.tool_calls
    assert tc.function.name == "get_weather"
    assert json.loads(oa.requests()[0]["body"])["tools"] == [WEATHER]


def test_images_data_uri_and_url_via_anthropic(gateway, an):
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    resp = client(gateway).chat.completions.create(model="claude-sonnet", messages=[{"role": "user", "content": [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "low"}},
    ]}])
    assert resp.choices[0].message.content == "mock anthropic says: what is this [images: 2]"
    body = json.loads(an.requests()[0]["body"])
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "what is this"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]


def test_provider_model_addressing(gateway, an):
    resp = client(gateway).chat.completions.create(model="anthropic/claude-haiku-4-5",
                                                   messages=[{"role": "user", "content": "yo"}])
    assert resp.model == "claude-haiku-4-5"
    assert json.loads(an.requests()[0]["body"])["model"] == "claude-haiku-4-5"


def test_models_list(gateway):
    models = [m.id for m in client(gateway).models.list()]
    from harness import demo_plugin_config
    assert models == [m["name"] for m in demo_plugin_config()["models"]]
    assert models[:3] == ["gpt-4o-mini", "claude-sonnet", "smart"]
