"""The `response` object the gateway writes for translated providers repeats the request's
fields as OpenAI's does (instructions, tools, temperature, metadata …), whole and streamed,
read with the official openai SDK through real Envoy."""

import openai
import pytest

TOOLS = [{"type": "function", "name": "get_weather", "description": "Weather for a city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                         "required": ["city"], "additionalProperties": False}, "strict": True}]
ARGS = dict(instructions="Be brief.", max_output_tokens=200, temperature=0.25, top_p=0.5,
            tools=TOOLS, tool_choice="auto", parallel_tool_calls=False, metadata={"team": "search"},
            user="u-1", store=False, truncation="auto", text={"format": {"type": "text"}})


def client(gateway):
    return openai.OpenAI(base_url=gateway.base + "/v1", api_key="sk-client", max_retries=0)


def check(resp):
    assert resp.instructions == "Be brief."
    assert resp.max_output_tokens == 200
    assert resp.temperature == 0.25 and resp.top_p == 0.5
    assert resp.parallel_tool_calls is False
    assert resp.metadata == {"team": "search"}
    assert resp.user == "u-1" and resp.store is False and resp.truncation == "auto"
    [tool] = resp.tools
    assert tool.name == "get_weather" and tool.strict is True
    assert tool.parameters == TOOLS[0]["parameters"]


@pytest.mark.parametrize("model", ["claude-sonnet", "gemini-flash", "claude-bedrock"])
def test_response_objects_echo_the_request(gateway, mocks, model):
    resp = client(gateway).responses.create(model=model, input="hello", **ARGS)
    check(resp)
    with client(gateway).responses.stream(model=model, input="hello", **ARGS) as s:
        events = list(s)
        final = s.get_final_response()
    check(final)
    created = next(e for e in events if e.type == "response.created")
    check(created.response)


def test_defaults_when_nothing_was_sent(gateway):
    resp = client(gateway).responses.create(model="claude-sonnet", input="hello")
    assert resp.instructions is None and resp.tools == [] and resp.tool_choice == "auto"
    assert resp.temperature == 1.0 and resp.top_p == 1.0 and resp.metadata == {}
