"""/v1/messages for Anthropic-shaped clients, with the official anthropic SDK through real
Envoy: served by an Anthropic provider (passthrough) and by OpenAI-format providers
(OpenAI, Azure, Groq preset) via translation, streaming and tools included."""

import json

import anthropic
import pytest

from harness import http

WEATHER = {"name": "get_weather", "description": "Weather for a city",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}

# model → (mock fixture name, provider, upstream model)
OPENAI_SHAPED = {
    "gpt-4o-mini": ("openai_mock", "openai", "gpt-4o-mini"),
    "azure-gpt": ("azure_mock", "azure", "gpt-4o-prod"),
    "groq-llama": ("groq_mock", "groq", "llama-3.3-70b-versatile"),
}


def client(gateway):
    return anthropic.Anthropic(base_url=gateway.base, api_key="sk-ant-client-secret", max_retries=0)


def fresh(mocks, name):
    mocks[name].reset()
    return mocks[name]


def test_passthrough_to_anthropic(gateway, an):
    msg = client(gateway).messages.create(
        model="claude-sonnet", max_tokens=100, extra_body={"top_k": 5},
        system=[{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "hello"}])
    assert msg.content[0].text == "mock anthropic says: hello"
    assert msg.model == "claude-sonnet-4-5"
    [rec] = an.requests()
    assert rec["path"] == "/v1/messages"
    assert rec["headers"]["x-api-key"] == "sk-ant-demo"
    assert "sk-ant-client-secret" not in json.dumps(rec)
    sent = json.loads(rec["body"])
    assert sent["model"] == "claude-sonnet-4-5" and sent["top_k"] == 5
    assert sent["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert msg.usage.input_tokens == rec["usage"]["prompt_tokens"]
    assert msg.usage.output_tokens == rec["usage"]["completion_tokens"]


def test_passthrough_stream_with_thinking(gateway, an):
    with client(gateway).messages.stream(
            model="claude-sonnet", max_tokens=3000, thinking={"type": "enabled", "budget_tokens": 1024},
            messages=[{"role": "user", "content": "why"}], extra_headers={"x-mock-chunk-bytes": "5"}) as s:
        final = s.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "mock anthropic thinks about: why"
    assert final.content[0].signature == "sig_mock_1"
    [rec] = an.requests()
    assert final.usage.output_tokens == rec["usage"]["completion_tokens"]


@pytest.mark.parametrize("model", list(OPENAI_SHAPED))
def test_served_by_openai_shaped_provider(gateway, mocks, model):
    mock_name, provider, upstream = OPENAI_SHAPED[model]
    mock = fresh(mocks, mock_name)
    label = upstream  # metric labels keep dots
    before = gateway.counter("llmgw_requests_total", model, provider, label)
    msg = client(gateway).messages.create(
        model=model, max_tokens=50, system="be brief", stop_sequences=["zzz"], extra_body={"temperature": 0.3},
        metadata={"user_id": "u-9"}, messages=[{"role": "user", "content": "hi there"}])
    assert msg.type == "message" and msg.role == "assistant"
    assert msg.content[0].text == f"mock {mock.name} says: hi there"
    assert msg.stop_reason == "end_turn"
    assert msg.id.startswith("msg_")
    [rec] = mock.requests()
    sent = json.loads(rec["body"])
    assert sent["messages"] == [{"role": "system", "content": "be brief"},
                                {"role": "user", "content": "hi there"}]
    assert sent["model"] == upstream and sent["stop"] == ["zzz"] and sent["user"] == "u-9"
    assert sent["temperature"] == 0.3
    assert msg.usage.input_tokens == rec["usage"]["prompt_tokens"]
    assert msg.usage.output_tokens == rec["usage"]["completion_tokens"]
    assert gateway.counter("llmgw_requests_total", model, provider, label) == before + 1


@pytest.mark.parametrize("chunk_bytes", [None, 1, 7])
def test_stream_from_openai_event_sequence(gateway, oa, chunk_bytes):
    headers = {"x-mock-chunk-bytes": str(chunk_bytes)} if chunk_bytes else {}
    with client(gateway).messages.stream(model="gpt-4o-mini", max_tokens=50, extra_headers=headers,
                                         messages=[{"role": "user", "content": "stream me"}]) as s:
        events = [e.type for e in s]
        final = s.get_final_message()
    assert final.content[0].text == "mock openai says: stream me"
    assert final.stop_reason == "end_turn"
    [rec] = oa.requests()
    assert final.usage.input_tokens == rec["usage"]["prompt_tokens"]
    assert final.usage.output_tokens == rec["usage"]["completion_tokens"]
    core = [e for e in events if e not in ("text",)]
    assert core[0] == "message_start" and core[1] == "content_block_start"
    assert core[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    sent = json.loads(rec["body"])
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("model", ["gpt-4o-mini", "azure-gpt"])
@pytest.mark.parametrize("stream", [False, True])
def test_tool_round_trip(gateway, mocks, model, stream):
    mock = fresh(mocks, OPENAI_SHAPED[model][0])
    c = client(gateway)
    messages = [{"role": "user", "content": "weather in Paris?"}]
    kw = dict(model=model, max_tokens=100, tools=[WEATHER], tool_choice={"type": "any"})
    if stream:
        with c.messages.stream(messages=messages, **kw) as s:
            types = [e.type for e in s]
            first = s.get_final_message()
        assert "input_json" in types
    else:
        first = c.messages.create(messages=messages, **kw)
    assert first.stop_reason == "tool_use"
    [tool_use] = [b for b in first.content if b.type == "tool_use"]
    assert tool_use.name == "get_weather" and tool_use.input == {"city": "mock"}
    sent = json.loads(mock.requests()[0]["body"])
    assert sent["tool_choice"] == "required"
    assert sent["tools"][0]["function"]["parameters"] == WEATHER["input_schema"]

    messages += [{"role": "assistant", "content": first.content},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use.id, "content": "sunny"}]}]
    second = c.messages.create(model=model, max_tokens=100, tools=[WEATHER], messages=messages)
    assert second.content[0].text == f"mock {mock.name} got tool result: sunny"
    sent = json.loads(mock.requests()[-1]["body"])
    assert sent["messages"][1]["tool_calls"][0]["id"] == tool_use.id
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": tool_use.id, "content": "sunny"}


def test_images_reach_openai_as_image_urls(gateway, oa):
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    msg = client(gateway).messages.create(model="gpt-4o-mini", max_tokens=50, messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}},
        {"type": "text", "text": "what?"}]}])
    assert msg.content[0].text == "mock openai says: what? [images: 1]"
    part = json.loads(oa.requests()[0]["body"])["messages"][0]["content"][0]
    assert part == {"type": "image_url", "image_url": {"url": "data:image/png;base64," + png}}


def test_errors_are_anthropic_shaped(gateway, oa, an):
    c = client(gateway)
    with pytest.raises(anthropic.NotFoundError) as e:
        c.messages.create(model="nope", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert e.value.body["type"] == "error" and e.value.body["error"]["type"] == "not_found_error"
    with pytest.raises(anthropic.RateLimitError) as e:
        c.messages.create(model="gpt-4o-mini", max_tokens=5, messages=[{"role": "user", "content": "x"}],
                          extra_headers={"x-mock-status": "429"})
    assert e.value.body["error"]["type"] == "rate_limit_error"
    # The Anthropic provider's own errors pass through, 529 included.
    with pytest.raises(anthropic.APIStatusError) as e:
        c.messages.create(model="claude-sonnet", max_tokens=5, messages=[{"role": "user", "content": "x"}],
                          extra_headers={"x-mock-status": "529"})
    assert e.value.status_code == 529 and e.value.body["error"]["type"] == "overloaded_error"
    status, _, body = http("POST", gateway.base + "/v1/messages",
                           {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]},
                           {"content-type": "application/json"})
    assert status == 400 and json.loads(body)["error"]["message"] == "max_tokens: Field required"
    # count_tokens exists (test_claude_code.py); other /v1/messages/* paths do not.
    status, _, body = http("POST", gateway.base + "/v1/messages/batches", {"model": "x"},
                           {"content-type": "application/json"})
    assert status == 404 and json.loads(body)["type"] == "error"


def test_midstream_error_becomes_error_event(gateway, oa):
    with pytest.raises(anthropic.APIStatusError) as e:
        with client(gateway).messages.stream(model="gpt-4o-mini", max_tokens=50,
                                             messages=[{"role": "user", "content": "a b c d"}],
                                             extra_headers={"x-mock-error-after-events": "2"}) as s:
            for _ in s:
                pass
    assert "server had an error" in str(e.value)


# Claude Code sends a `role: "system"` entry inside `messages` whenever it does not
# recognise the model name (and the mid-conversation-system beta with it).
CLAUDE_CODE_BETAS = ("claude-code-20250219,interleaved-thinking-2025-05-14,"
                     "mid-conversation-system-2026-04-07,effort-2025-11-24")
CLAUDE_CODE_MODELS = {
    "claude-sonnet": "anthropic_mock",
    "gemini-flash": "gemini_mock",
    "claude-bedrock": "bedrock_mock",
    "gpt-4o-mini": "openai_mock",
}


def claude_code_turn(gateway, model, betas):
    headers = {"anthropic-beta": betas} if betas else {}
    with client(gateway).messages.stream(
            model=model, max_tokens=2000, extra_headers=headers,
            system=[{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
            messages=[{"role": "user", "content": [{"type": "text", "text": "list files"}]},
                      {"role": "system", "content": "The working directory is /src."}],
            tools=[WEATHER], metadata={"user_id": "cc-user"},
            extra_body={"thinking": {"type": "adaptive"}, "output_config": {"effort": "high"}}) as s:
        return s.get_final_message()


@pytest.mark.parametrize("model", list(CLAUDE_CODE_MODELS))
def test_claude_code_system_message_inside_messages(gateway, mocks, model):
    mock = fresh(mocks, CLAUDE_CODE_MODELS[model])
    final = claude_code_turn(gateway, model, CLAUDE_CODE_BETAS)
    # The mocks call a declared tool when they are given one.
    assert final.stop_reason == "tool_use"
    assert final.content[-1].type == "tool_use" and final.content[-1].name == "get_weather"
    [rec] = mock.requests()
    assert "The working directory is /src." in rec["body"]
    if model == "claude-sonnet":
        # The client asked for the beta: the entry and the client's betas reach Anthropic as sent.
        sent = json.loads(rec["body"])
        assert [m["role"] for m in sent["messages"]] == ["user", "system"]
        assert rec["headers"]["anthropic-beta"] == CLAUDE_CODE_BETAS
        assert sent["thinking"] == {"type": "adaptive"} and sent["output_config"] == {"effort": "high"}


def test_claude_code_system_message_hoisted_without_the_beta(gateway, an):
    final = claude_code_turn(gateway, "claude-sonnet", None)
    assert final.content[-1].type == "tool_use" and final.content[-1].name == "get_weather"
    [rec] = an.requests()
    sent = json.loads(rec["body"])
    assert [m["role"] for m in sent["messages"]] == ["user"]
    assert sent["system"] == [
        {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "The working directory is /src."}]
    assert "anthropic-beta" not in rec["headers"]
    # The SDK's own anthropic-version reaches the provider (it used to be stripped).
    assert rec["headers"]["anthropic-version"] == "2023-06-01"
