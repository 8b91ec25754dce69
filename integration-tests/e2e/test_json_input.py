"""The client's JSON means to the provider what it meant to the gateway, through real
Envoy: keys written with escapes are matched by their value (spliced, never doubled),
duplicate keys and nesting beyond 128 levels are refused, and OpenAI's own ranges hold
whichever provider serves the request. Nothing refused reaches a provider."""

import json

import openai
import pytest

from harness import http

HI = '"messages":[{"role":"user","content":"hi"}]'

# model → (mock fixture name, provider, upstream model label)
OPENAI_FORMAT = {
    "gpt-4o-mini": ("openai_mock", "openai", "gpt-4o-mini"),
    "azure-gpt": ("azure_mock", "azure", "gpt-4o-prod"),
    "groq-llama": ("groq_mock", "groq", "llama-3.3-70b-versatile"),
}


def post(gateway, path, raw):
    return http("POST", gateway.base + path, raw.encode(), {"content-type": "application/json"}, timeout=30)


def fresh(mocks, name):
    mocks[name].reset()
    return mocks[name]


def keys_of(raw):
    """Top-level keys in order, duplicates kept (json.loads keeps only the last)."""
    return json.loads(raw, object_pairs_hook=lambda pairs: [k for k, _ in pairs])


@pytest.fixture()
def quiet(mocks):
    """Every mock with no request recorded yet."""
    for m in mocks.values():
        m.reset()
    return mocks


def nobody_called(mocks):
    for m in mocks.values():
        assert m.requests() == [], f"{m.name} got a request it should not"


@pytest.mark.parametrize("model", list(OPENAI_FORMAT))
def test_escaped_stream_options_keeps_the_stream_accounted(gateway, mocks, model):
    mock_name, provider, label = OPENAI_FORMAT[model]
    mock = fresh(mocks, mock_name)
    before = gateway.counter("llmgw_completion_tokens_total", model, provider, label)
    raw = ('{"model":"%s","stream":true,"stream_\\u006fptions":{"include_usage":false},%s}' % (model, HI))
    status, _, body = post(gateway, "/v1/chat/completions", raw)
    assert status == 200, body
    assert b'"usage":{' not in body, "the client did not ask for the usage chunk"
    [rec] = mock.requests()
    assert keys_of(rec["body"]).count("stream_options") == 1, rec["body"]
    assert json.loads(rec["body"])["stream_options"] == {"include_usage": True}
    completion = rec["usage"]["completion_tokens"]
    assert completion > 0
    after = gateway.counter("llmgw_completion_tokens_total", model, provider, label)
    assert after - before == completion


@pytest.mark.parametrize("path,raw,mock_name,upstream", [
    ("/v1/chat/completions", '{"mod\\u0065l":"openai/gpt-4o",%s}' % HI, "openai_mock", "gpt-4o"),
    ("/v1/chat/completions", '{"mod\\u0065l":"azure-gpt",%s}' % HI, "azure_mock", "gpt-4o-prod"),
    ("/v1/embeddings", '{"input":"hi","\\u006dodel":"azure-embed"}', "azure_mock", "embed-prod"),
    ("/v1/messages", '{"mod\\u0065l":"claude-sonnet","max_tokens":20,%s}' % HI, "anthropic_mock",
     "claude-sonnet-4-5"),
], ids=["chat-openai", "chat-azure", "embeddings-azure", "messages-anthropic"])
def test_escaped_model_alias_is_rewritten(gateway, mocks, path, raw, mock_name, upstream):
    mock = fresh(mocks, mock_name)
    status, _, body = post(gateway, path, raw)
    assert status == 200, body
    [rec] = mock.requests()
    assert keys_of(rec["body"]).count("model") == 1, rec["body"]
    assert json.loads(rec["body"])["model"] == upstream


DUPLICATES = [
    ('{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},'
     '"stream_\\u006fptions":{"include_usage":false},%s}' % HI, "stream_options"),
    ('{"model":"gpt-4o-mini","mod\\u0065l":"claude-sonnet",%s}' % HI, "model"),
    ('{"model":"gpt-4o-mini","max_tokens":5,"max_tok\\u0065ns":100000,%s}' % HI, "max_tokens"),
    ('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi","c\\u006fntent":"more"}]}', "content"),
]


@pytest.mark.parametrize("raw,param", DUPLICATES, ids=[d[1] for d in DUPLICATES])
def test_duplicate_keys_are_refused(gateway, quiet, raw, param):
    status, _, body = post(gateway, "/v1/chat/completions", raw)
    assert status == 400, body
    e = json.loads(body)["error"]
    assert e["param"] == param and e["type"] == "invalid_request_error", e
    nobody_called(quiet)


def deep(n):
    return "[" * n + "1" + "]" * n


@pytest.mark.parametrize("path,raw", [
    ("/v1/chat/completions", '{"model":"gpt-4o-mini","x_unread":%s,%s}' % (deep(10_000), HI)),
    ("/v1/chat/completions", '{"model":"claude-sonnet","tools":[{"type":"function","function":'
                             '{"name":"f","parameters":{"type":"object","x":%s}}}],%s}' % (deep(10_000), HI)),
    ("/v1/messages", '{"model":"claude-sonnet","max_tokens":20,"metadata":{"x":%s},%s}' % (deep(10_000), HI)),
    ("/v1/embeddings", '{"model":"text-embedding-3-small","input":"hi","x":%s}' % deep(10_000)),
], ids=["chat-unread-field", "chat-tool-schema", "messages-passthrough", "embeddings"])
def test_deep_nesting_is_refused(gateway, quiet, path, raw):
    status, _, body = post(gateway, path, raw)
    assert status == 400, body
    err = json.loads(body)
    if path == "/v1/messages":
        assert err["type"] == "error" and err["error"]["type"] == "invalid_request_error", err
    assert "128" in err["error"]["message"], err
    nobody_called(quiet)
    # Nesting up to the bound in a field the gateway does not read still goes through.
    ok = '{"model":"gpt-4o-mini","x_unread":%s,%s}' % (deep(100), HI)
    status, _, body = post(gateway, "/v1/chat/completions", ok)
    assert status == 200, body


WEATHER = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-sonnet"])
@pytest.mark.parametrize("kwargs,param", [
    ({"temperature": 2.5}, "temperature"),
    ({"temperature": -0.5}, "temperature"),
    ({"top_p": 1.5}, "top_p"),
    ({"n": 0}, "n"),
    ({"tools": WEATHER, "tool_choice": {"type": "function", "function": {"name": "drop_tables"}}}, "tool_choice"),
], ids=["temperature-high", "temperature-negative", "top_p", "n-zero", "undeclared-tool"])
def test_openai_ranges_with_the_openai_sdk(gateway, quiet, model, kwargs, param):
    client = openai.OpenAI(base_url=gateway.base + "/v1", api_key="sk-client", max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], **kwargs)
    assert caught.value.status_code == 400
    assert caught.value.body["param"] == param, caught.value.body
    nobody_called(quiet)
