"""Gemini (Google AI Studio), Gemini on Vertex AI and Claude on Vertex AI through real Envoy
with the official openai SDK, checking the exact upstream request the mock recorded."""

import base64
import json

import openai
import pytest

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                       "additionalProperties": False},
    },
}
GEMINI_DECL = {"name": "get_weather", "description": "Weather for a city",
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
VERTEX_GEMINI_PATH = "/v1/projects/demo-project/locations/us-central1/publishers/google/models/gemini-2.5-pro"
VERTEX_CLAUDE_PATH = ("/v1/projects/demo-project/locations/us-east5/publishers/anthropic/models/"
                      "claude-sonnet-4-5@20250929")


def client(gateway):
    return openai.OpenAI(base_url=gateway.base + "/v1", api_key="sk-client-secret", max_retries=0)


def signature(seq):
    return base64.b64encode(f"sig_mock_{seq}".encode()).decode()


def collect(chunks):
    """(text, reasoning, tool calls by index, finish reasons, usage chunks) of a stream."""
    text, reasoning, calls, finishes = "", "", {}, []
    for ch in chunks:
        for choice in ch.choices:
            d = choice.delta
            text += d.content or ""
            reasoning += (d.model_extra or {}).get("reasoning_content") or ""
            for tc in d.tool_calls or []:
                cur = calls.setdefault(tc.index, {"id": None, "name": None, "arguments": ""})
                cur["id"] = tc.id or cur["id"]
                cur["name"] = (tc.function.name if tc.function else None) or cur["name"]
                cur["arguments"] += (tc.function.arguments or "") if tc.function else ""
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    return text, reasoning, calls, finishes, [c for c in chunks if c.usage]


def assert_usage_matches(usage, rec):
    assert usage.prompt_tokens == rec["usage"]["prompt_tokens"]
    assert usage.completion_tokens == rec["usage"]["completion_tokens"]


# ---------- Gemini (AI Studio) ----------

def test_gemini_chat_exact_upstream(gateway, gm):
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="gemini-flash",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "hi!"},
            {"role": "user", "content": "how are you"},
        ],
        temperature=0.5, top_p=0.9, max_tokens=50, stop=["zzz"], seed=7, user="u-1",
    )
    resp = raw.parse()
    assert raw.headers["x-llm-provider"] == "gemini"
    assert raw.headers["x-llm-model"] == "gemini-2.5-flash"
    assert resp.choices[0].message.content == "mock gemini says: how are you"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.model == "gemini-2.5-flash"
    assert resp.id == "resp_mock_1"
    [rec] = gm.requests()
    assert rec["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert rec["headers"]["x-goog-api-key"] == "demo-gemini-key"
    assert rec["headers"]["host"] == "generativelanguage.googleapis.com"
    assert rec["headers"]["content-type"] == "application/json"
    assert "authorization" not in rec["headers"]
    assert "sk-client-secret" not in json.dumps(rec)
    assert json.loads(rec["body"]) == {
        "contents": [
            {"role": "user", "parts": [{"text": "hello"}]},
            {"role": "model", "parts": [{"text": "hi!"}]},
            {"role": "user", "parts": [{"text": "how are you"}]},
        ],
        "systemInstruction": {"parts": [{"text": "be brief"}]},
        "generationConfig": {"stopSequences": ["zzz"], "maxOutputTokens": 50, "temperature": 0.5, "topP": 0.9,
                             "seed": 7},
    }
    assert_usage_matches(resp.usage, rec)


@pytest.mark.parametrize("chunk_bytes", [None, 1, 7])
@pytest.mark.parametrize("include_usage", [True, False])
def test_gemini_stream(gateway, gm, chunk_bytes, include_usage):
    headers = {"x-mock-chunk-bytes": str(chunk_bytes)} if chunk_bytes else {}
    chunks = list(client(gateway).chat.completions.create(
        model="gemini-flash", messages=[{"role": "user", "content": "stream me please"}], stream=True,
        stream_options={"include_usage": include_usage}, extra_headers=headers))
    text, _, _, finishes, usage_chunks = collect(chunks)
    assert text == "mock gemini says: stream me please"
    assert finishes == ["stop"]
    assert chunks[0].choices[0].delta.role == "assistant"
    [rec] = gm.requests()
    assert rec["path"] == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    if include_usage:
        assert len(usage_chunks) == 1 and usage_chunks[0].choices == []
        assert_usage_matches(usage_chunks[0].usage, rec)
    else:
        assert usage_chunks == []


@pytest.mark.parametrize("stream", [False, True])
def test_gemini_tool_round_trip_keeps_thought_signature(gateway, gm, stream):
    c = client(gateway)
    messages = [{"role": "user", "content": "weather in Paris?"}]
    if stream:
        _, _, calls, finishes, _ = collect(list(c.chat.completions.create(
            model="gemini-flash", messages=messages, tools=[WEATHER], tool_choice="required", stream=True)))
        [call] = calls.values()
        assert finishes == ["tool_calls"]
        call_id, name, args = call["id"], call["name"], call["arguments"]
    else:
        resp = c.chat.completions.create(model="gemini-flash", messages=messages, tools=[WEATHER],
                                         tool_choice="required")
        assert resp.choices[0].finish_reason == "tool_calls"
        [tc] = resp.choices[0].message.tool_calls
        call_id, name, args = tc.id, tc.function.name, tc.function.arguments
    assert name == "get_weather"
    assert json.loads(args) == {"city": "mock"}
    # The thought signature travels inside the id so that the client sends it back.
    assert call_id == "call_0__thought__" + signature(1)
    first = json.loads(gm.requests()[0]["body"])
    assert first["tools"] == [{"functionDeclarations": [GEMINI_DECL]}]
    assert first["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}

    messages += [
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}]},
        {"role": "tool", "tool_call_id": call_id, "content": "sunny, 21C"},
    ]
    resp = c.chat.completions.create(model="gemini-flash", messages=messages, tools=[WEATHER])
    assert resp.choices[0].message.content == "mock gemini got tool result: sunny, 21C"
    second = json.loads(gm.requests()[-1]["body"])
    assert second["contents"][1:] == [
        {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "mock"}},
                                     "thoughtSignature": signature(1)}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather",
                                                         "response": {"content": "sunny, 21C"}}}]},
    ]


def test_gemini_images(gateway, gm):
    resp = client(gateway).chat.completions.create(model="gemini-flash", messages=[{"role": "user", "content": [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "low"}},
    ]}])
    assert resp.choices[0].message.content == "mock gemini says: what is this [images: 2]"
    body = json.loads(gm.requests()[0]["body"])
    assert body["contents"][0]["parts"] == [
        {"text": "what is this"},
        {"inlineData": {"mimeType": "image/png", "data": PNG}},
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.jpg"}},
    ]


def test_gemini_image_url_without_type_is_a_clear_400(gateway, gm):
    with pytest.raises(openai.BadRequestError) as e:
        client(gateway).chat.completions.create(model="gemini-flash", messages=[{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.com/photo?id=3"}}]}])
    assert e.value.status_code == 400
    assert e.value.body["param"] == "messages[0].content[0].image_url.url"
    assert "image type" in e.value.body["message"]
    assert gm.requests() == []


def test_gemini_reasoning_json_schema_and_n(gateway, gm):
    schema = {"type": "object", "properties": {"answer": {"type": ["string", "null"]}}, "required": ["answer"],
              "additionalProperties": False}
    resp = client(gateway).chat.completions.create(
        model="gemini-flash", messages=[{"role": "user", "content": "think"}], n=2, reasoning_effort="low",
        response_format={"type": "json_schema", "json_schema": {"name": "a", "strict": True, "schema": schema}})
    assert [c.index for c in resp.choices] == [0, 1]
    for choice in resp.choices:
        # The mock follows a response schema (as Gemini does): a JSON object built from it.
        assert json.loads(choice.message.content) == {"answer": "mock"}
        assert choice.message.model_extra["reasoning_content"] == "mock thinking"
    [rec] = gm.requests()
    assert json.loads(rec["body"])["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseSchema": {"type": "object", "properties": {"answer": {"type": "string", "nullable": True}},
                           "required": ["answer"]},
        "candidateCount": 2,
        "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True},
    }
    assert_usage_matches(resp.usage, rec)
    # thinking is billed as completion (the mock counts the JSON as one word)
    assert resp.usage.completion_tokens == 2 * 1 + 2


def test_gemini_stream_reasoning(gateway, gm):
    chunks = list(client(gateway).chat.completions.create(
        model="gemini-flash", messages=[{"role": "user", "content": "hmm"}], stream=True, reasoning_effort="medium"))
    text, reasoning, _, finishes, _ = collect(chunks)
    assert (text, reasoning, finishes) == ("mock gemini says: hmm", "mock thinking", ["stop"])


@pytest.mark.parametrize("status,expected,error_type", [
    (429, 429, "rate_limit_error"), (503, 503, "overloaded_error"), (400, 400, "invalid_request_error"),
    (404, 404, "not_found_error"), (500, 500, "api_error")])
def test_gemini_errors_become_openai_errors(gateway, gm, status, expected, error_type):
    gm.faults([{"status": status}])
    with pytest.raises(openai.APIStatusError) as e:
        client(gateway).chat.completions.create(model="gemini-flash", messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == expected
    assert e.value.body["type"] == error_type
    if status == 429:
        # From the google.rpc.RetryInfo detail.
        assert e.value.response.headers["retry-after"] == "1"


def test_gemini_error_mid_stream(gateway, gm):
    gm.faults([{"error_after_events": 2}])
    chunks = []
    with pytest.raises(openai.APIError) as e:
        for ch in client(gateway).chat.completions.create(
                model="gemini-flash", messages=[{"role": "user", "content": "a b c d"}], stream=True):
            chunks.append(ch)
    assert "overloaded" in str(e.value)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "mock gemini "


def test_gemini_stream_cut_counts_as_error(gateway, gm):
    key = ("gemini-flash", "gemini", "gemini-2.5-flash")
    before = gateway.counter("llmgw_errors_total", *key)
    gm.faults([{"cut_after_events": 2}])
    with pytest.raises(Exception):  # a broken stream (or the gateway's error event)
        list(client(gateway).chat.completions.create(
            model="gemini-flash", messages=[{"role": "user", "content": "a b c d"}], stream=True))
    assert gateway.counter("llmgw_errors_total", *key) - before == 1


def test_gemini_counters(gateway, gm):
    key = ("gemini-flash", "gemini", "gemini-2.5-flash")
    before = {n: gateway.counter(n, *key) for n in ("llmgw_requests_total", "llmgw_prompt_tokens_total",
                                                     "llmgw_completion_tokens_total")}
    c = client(gateway)
    c.chat.completions.create(model="gemini-flash", messages=[{"role": "user", "content": "one two"}])
    list(c.chat.completions.create(model="gemini-flash", messages=[{"role": "user", "content": "three"}],
                                   stream=True))
    recs = gm.requests()
    prompt = sum(r["usage"]["prompt_tokens"] for r in recs)
    completion = sum(r["usage"]["completion_tokens"] for r in recs)
    assert gateway.counter("llmgw_requests_total", *key) - before["llmgw_requests_total"] == 2
    assert gateway.counter("llmgw_prompt_tokens_total", *key) - before["llmgw_prompt_tokens_total"] == prompt
    assert (gateway.counter("llmgw_completion_tokens_total", *key)
            - before["llmgw_completion_tokens_total"]) == completion


# ---------- Vertex AI ----------

def test_vertex_gemini_chat_and_stream(gateway, vx):
    c = client(gateway)
    resp = c.chat.completions.create(model="vertex-gemini", messages=[{"role": "user", "content": "hi"}])
    assert resp.choices[0].message.content == "mock vertex says: hi"
    chunks = list(c.chat.completions.create(model="vertex-gemini", messages=[{"role": "user", "content": "yo"}],
                                            stream=True, stream_options={"include_usage": True}))
    text, _, _, finishes, usage_chunks = collect(chunks)
    assert (text, finishes) == ("mock vertex says: yo", ["stop"])
    first, second = vx.requests()
    assert first["path"] == VERTEX_GEMINI_PATH + ":generateContent"
    assert second["path"] == VERTEX_GEMINI_PATH + ":streamGenerateContent?alt=sse"
    for rec in (first, second):
        assert rec["headers"]["authorization"] == "Bearer ya29.demo-vertex-token"
        assert rec["headers"]["host"] == "us-central1-aiplatform.googleapis.com"
        assert "x-goog-api-key" not in rec["headers"]
    assert json.loads(first["body"]) == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    assert_usage_matches(resp.usage, first)
    assert_usage_matches(usage_chunks[0].usage, second)


def test_vertex_claude_chat_exact_upstream(gateway, vx):
    resp = client(gateway).chat.completions.create(
        model="vertex-claude", messages=[{"role": "system", "content": "be brief"},
                                         {"role": "user", "content": "hello"}],
        max_completion_tokens=100, stop="zzz")
    assert resp.choices[0].message.content == "mock vertex says: hello"
    assert resp.model == "claude-sonnet-4-5@20250929"
    [rec] = vx.requests()
    assert rec["path"] == VERTEX_CLAUDE_PATH + ":rawPredict"
    assert rec["headers"]["authorization"] == "Bearer ya29.demo-vertex-token"
    assert rec["headers"]["host"] == "us-east5-aiplatform.googleapis.com"
    assert "x-api-key" not in rec["headers"] and "anthropic-version" not in rec["headers"]
    assert json.loads(rec["body"]) == {
        "anthropic_version": "vertex-2023-10-16",
        "system": "be brief",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hello"}]}],
        "max_tokens": 100,
        "stop_sequences": ["zzz"],
    }
    assert_usage_matches(resp.usage, rec)


@pytest.mark.parametrize("chunk_bytes", [None, 5])
def test_vertex_claude_stream(gateway, vx, chunk_bytes):
    headers = {"x-mock-chunk-bytes": str(chunk_bytes)} if chunk_bytes else {}
    chunks = list(client(gateway).chat.completions.create(
        model="vertex-claude", messages=[{"role": "user", "content": "stream it"}], stream=True,
        stream_options={"include_usage": True}, extra_headers=headers))
    text, _, _, finishes, usage_chunks = collect(chunks)
    assert (text, finishes) == ("mock vertex says: stream it", ["stop"])
    [rec] = vx.requests()
    assert rec["path"] == VERTEX_CLAUDE_PATH + ":streamRawPredict"
    body = json.loads(rec["body"])
    assert body["stream"] is True and body["anthropic_version"] == "vertex-2023-10-16" and "model" not in body
    assert_usage_matches(usage_chunks[0].usage, rec)


def test_vertex_claude_tool_round_trip(gateway, vx):
    c = client(gateway)
    messages = [{"role": "user", "content": "weather?"}]
    resp = c.chat.completions.create(model="vertex-claude", messages=messages, tools=[WEATHER])
    [tc] = resp.choices[0].message.tool_calls
    assert (tc.id, tc.function.name, json.loads(tc.function.arguments)) == ("toolu_mock_1", "get_weather",
                                                                            {"city": "mock"})
    messages += [{"role": "assistant", "content": None, "tool_calls": [tc.model_dump()]},
                 {"role": "tool", "tool_call_id": tc.id, "content": "sunny"}]
    resp = c.chat.completions.create(model="vertex-claude", messages=messages, tools=[WEATHER])
    assert resp.choices[0].message.content == "mock vertex got tool result: sunny"
    assert vx.requests()[-1]["path"] == VERTEX_CLAUDE_PATH + ":rawPredict"


@pytest.mark.parametrize("model,status,expected,error_type", [
    ("vertex-claude", 429, 429, "rate_limit_error"),     # Vertex quota, Google's shape
    ("vertex-claude", 529, 503, "overloaded_error"),     # the model, Anthropic's shape
    ("vertex-gemini", 401, 401, "authentication_error"),  # expired token
])
def test_vertex_errors(gateway, vx, model, status, expected, error_type):
    vx.faults([{"status": status}])
    status_got, _, body = gateway.chat({"model": model, "messages": [{"role": "user", "content": "x"}]})
    assert status_got == expected, body
    assert json.loads(body)["error"]["type"] == error_type


def test_vertex_model_that_would_escape_the_path_is_refused(gateway, vx):
    status, _, body = gateway.chat({"model": "vertex/../../x", "messages": [{"role": "user", "content": "x"}]})
    assert status == 400 and json.loads(body)["error"]["param"] == "model"
    assert vx.requests() == []
