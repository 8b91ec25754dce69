"""Claude on Vertex AI serves /v1/messages natively, and providers count tokens themselves,
through real Envoy with the official anthropic SDK against the Vertex, Gemini and Bedrock
mocks: the Messages body reaches Vertex's rawPredict as sent (cache_control,
context_management, thinking blocks), model in the path, `anthropic_version` in the body;
messages.count_tokens is answered by Vertex (`count-tokens:rawPredict`, `:countTokens`),
Gemini (`:countTokens`) and Bedrock (`count-tokens`, signed), with no estimate header, and
the count equals what the provider answered."""

import json

import anthropic
import pytest

VERSION = "vertex-2023-10-16"
VERTEX_CLAUDE = "claude-sonnet-4-5@20250929"

COUNT_BODY = dict(
    system="be brief",
    messages=[{"role": "user", "content": "how many tokens are in this question?"}],
    tools=[{"name": "get_weather", "description": "Weather for a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
)


def client(gateway):
    return anthropic.Anthropic(base_url=gateway.base, api_key="sk-ant-client-secret", max_retries=0)


def test_vertex_claude_messages_pass_through(gateway, vx):
    msg = client(gateway).messages.create(
        model="vertex-claude", max_tokens=100,
        system=[{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": [{"type": "text", "text": "hello",
                                                "cache_control": {"type": "ephemeral"}}]}],
        extra_body={"context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]}},
        extra_headers={"anthropic-beta": "context-management-2025-06-27"})
    assert msg.content[0].text == "mock vertex says: hello"
    [rec] = vx.requests()
    assert rec["path"] == ("/v1/projects/demo-project/locations/us-east5/publishers/anthropic/models/"
                           f"{VERTEX_CLAUDE}:rawPredict")
    assert rec["headers"]["anthropic-beta"] == "context-management-2025-06-27"
    assert rec["headers"]["authorization"].startswith("Bearer ")
    assert "sk-ant-client-secret" not in json.dumps(rec)
    sent = json.loads(rec["body"])
    assert "model" not in sent and sent["anthropic_version"] == VERSION
    assert sent["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert sent["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral"}
    assert sent["context_management"]["edits"][0]["type"] == "clear_thinking_20251015"
    assert msg.usage.input_tokens == rec["usage"]["prompt_tokens"]
    assert msg.usage.output_tokens == rec["usage"]["completion_tokens"]


def test_vertex_claude_stream_with_thinking_passes_through(gateway, vx):
    history = [{"role": "user", "content": "why"},
               {"role": "assistant", "content": [
                   {"type": "thinking", "thinking": "earlier", "signature": "sig_prev"},
                   {"type": "text", "text": "because"}]},
               {"role": "user", "content": "why again"}]
    with client(gateway).messages.stream(
            model="vertex-claude", max_tokens=3000, thinking={"type": "enabled", "budget_tokens": 1024},
            messages=history, extra_headers={"x-mock-chunk-bytes": "5"}) as s:
        final = s.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    [rec] = vx.requests()
    assert rec["path"].endswith(f"/models/{VERTEX_CLAUDE}:streamRawPredict")
    sent = json.loads(rec["body"])
    # The earlier turn's signed thinking block goes back to Claude as it came.
    assert sent["messages"][1]["content"][0] == {"type": "thinking", "thinking": "earlier",
                                                 "signature": "sig_prev"}
    assert sent["stream"] is True and sent["thinking"]["budget_tokens"] == 1024
    assert final.usage.output_tokens == rec["usage"]["completion_tokens"]


def test_vertex_claude_errors_keep_anthropic_shape(gateway, vx):
    with pytest.raises(anthropic.RateLimitError) as e:
        client(gateway).messages.create(model="vertex-claude", max_tokens=10,
                                        messages=[{"role": "user", "content": "hi"}],
                                        extra_headers={"x-mock-status": "429"})
    assert e.value.body["type"] == "error"
    assert e.value.body["error"]["type"] == "rate_limit_error"


# model alias → (mock fixture, path the count goes to, the count's field in the mock's answer)
COUNTED = {
    "vertex-claude": ("vertex_mock", "/publishers/anthropic/models/count-tokens:rawPredict"),
    "vertex-gemini": ("vertex_mock", "/publishers/google/models/gemini-2.5-pro:countTokens"),
    "gemini-flash": ("gemini_mock", "/models/gemini-2.5-flash:countTokens"),
    "claude-bedrock": ("bedrock_mock", "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/count-tokens"),
}


@pytest.mark.parametrize("model", list(COUNTED))
def test_count_tokens_is_asked_of_the_provider(gateway, mocks, model):
    for m in mocks.values():
        m.reset()
    name, path = COUNTED[model]
    raw = client(gateway).messages.with_raw_response.count_tokens(model=model, **COUNT_BODY)
    assert raw.headers.get("x-llm-gateway-token-count") is None
    counted = raw.parse().input_tokens
    [rec] = mocks[name].requests()
    assert rec["path"].endswith(path), rec["path"]
    assert rec["status"] == 200
    # The mock records the count it answered as its prompt tokens.
    assert counted == rec["usage"]["prompt_tokens"] > 10
    assert "sk-ant-client-secret" not in json.dumps(rec)
    # The system text and the tool count too: a longer system prompt counts more.
    longer = dict(COUNT_BODY, system="be brief " * 30)
    assert client(gateway).messages.count_tokens(model=model, **longer).input_tokens > counted + 20
    assert all(not m.requests() for n, m in mocks.items() if n != name)


def test_bedrock_count_is_signed(gateway, bedrock):
    client(gateway).messages.count_tokens(model="claude-bedrock", **COUNT_BODY)
    [rec] = bedrock.requests()
    assert rec["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 ")
    sent = json.loads(rec["body"])
    assert set(sent["input"]["converse"]) == {"messages", "system", "toolConfig"}
