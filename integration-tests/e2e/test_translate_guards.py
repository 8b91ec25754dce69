"""What the translators refuse, clamp or drop before anything reaches a provider, through
real Envoy with the official openai SDK: dot-segment model ids, fanning-out schemas,
ranges and blank text the provider would reject, and the one log line for what a provider
cannot honour."""

import json

import openai
import pytest


def client(gateway):
    return openai.OpenAI(base_url=gateway.base + "/v1", api_key="sk-client-secret", max_retries=0)


@pytest.mark.parametrize("model", [".", ".."])
def test_bedrock_dot_segment_model_ids_are_refused(gateway, bedrock, model):
    with pytest.raises(openai.BadRequestError) as e:
        client(gateway).chat.completions.create(model=f"bedrock/{model}",
                                                messages=[{"role": "user", "content": "hi"}])
    assert e.value.body["param"] == "model"
    assert bedrock.requests() == []


def fan_out_tool(levels, fan, pad_to):
    """Definitions each referring `fan` times to the next: fan**levels copies if inlined."""
    per = pad_to // (levels * fan)
    defs = {}
    for lvl in range(levels):
        props = {}
        for f in range(fan):
            props[f"p{f}"] = ({"$ref": f"#/$defs/D{lvl + 1}", "description": "d" * per}
                              if lvl + 1 < levels else {"type": "string", "description": "d" * per})
        defs[f"D{lvl}"] = {"type": "object", "properties": props}
    return {"type": "function", "function": {"name": "bomb", "parameters": {
        "type": "object", "properties": {"r": {"$ref": "#/$defs/D0"}}, "$defs": defs}}}


def test_gemini_schema_fanning_out_through_refs_is_a_400_naming_the_tool(gateway, gm):
    c = client(gateway)
    with pytest.raises(openai.BadRequestError) as e:
        c.chat.completions.create(model="gemini-flash", messages=[{"role": "user", "content": "x"}],
                                  tools=[fan_out_tool(6, 6, 1 << 20)])
    assert e.value.body["param"] == "tools[0].function.parameters"
    assert '"bomb"' in e.value.body["message"] and "$ref expansion" in e.value.body["message"]
    assert gm.requests() == []
    # Both workers keep serving (the VM used to trap and reload).
    for _ in range(4):
        r = c.chat.completions.create(model="gemini-flash", messages=[{"role": "user", "content": "hi"}])
        assert r.choices[0].message.content


def test_gemini_logs_the_fields_it_cannot_honour(gateway, gm):
    client(gateway).chat.completions.create(model="gemini-flash", logprobs=True, user="u-1",
                                            messages=[{"role": "user", "content": "x"}])
    sent = json.loads(gm.requests()[0]["body"])
    assert "logprobs" not in json.dumps(sent)
    assert "provider gemini cannot honour: logprobs, user" in gateway.log()


def test_anthropic_temperature_clamped_and_blank_text_and_stop_dropped(gateway, an):
    client(gateway).chat.completions.create(
        model="claude-sonnet", temperature=1.5, stop=[" ", "END"],
        messages=[{"role": "system", "content": "  "},
                  {"role": "user", "content": [{"type": "text", "text": "\n"}, {"type": "text", "text": "hi"}]}])
    sent = json.loads(an.requests()[0]["body"])
    assert sent["temperature"] == 1.0
    assert sent["stop_sequences"] == ["END"]
    assert "system" not in sent
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert "provider anthropic cannot honour: temperature, stop" in gateway.log()


@pytest.mark.parametrize("model, mock", [("claude-sonnet", "anthropic_mock"), ("claude-bedrock", "bedrock_mock")])
def test_a_trailing_empty_user_turn_is_refused_not_turned_into_a_prefill(gateway, mocks, model, mock):
    mocks[mock].reset()
    with pytest.raises(openai.BadRequestError) as e:
        client(gateway).chat.completions.create(model=model, messages=[
            {"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": " "}])
    assert e.value.body["param"] == "messages[2].content"
    assert mocks[mock].requests() == []
