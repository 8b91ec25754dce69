"""POST /v1/responses (OpenAI's Responses API) through real Envoy with the official openai SDK:
passed through to OpenAI-format providers that serve it (OpenAI, Azure), translated for the
others (Anthropic, Gemini, Bedrock, and the Groq preset, which serves only chat completions);
streams, tool round trips, structured output, stored-state refusals, GET/DELETE by id, errors,
counters equal to what the providers reported, strict mode and prompt_cache_key stickiness."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import agents
import openai
import pytest
from pydantic import BaseModel

from harness import Envoy, Mock, demo_plugin_config, http

# model → (mock cluster, provider, upstream model, the mock's name in its answers)
MODELS = {
    "gpt-4o-mini": ("openai_mock", "openai", "gpt-4o-mini", "openai"),
    "claude-sonnet": ("anthropic_mock", "anthropic", "claude-sonnet-4-5", "anthropic"),
    "gemini-flash": ("gemini_mock", "gemini", "gemini-2.5-flash", "gemini"),
    "claude-bedrock": ("bedrock_mock", "bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", "bedrock"),
    "groq-llama": ("groq_mock", "groq", "llama-3.3-70b-versatile", "groq"),
    "azure-gpt": ("azure_mock", "azure", "gpt-4o-prod", "azure"),
}
NATIVE = {"gpt-4o-mini", "azure-gpt"}
FOUR = ["gpt-4o-mini", "claude-sonnet", "gemini-flash", "claude-bedrock"]

WEATHER = {"type": "function", "name": "get_weather", "description": "Weather for a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                          "required": ["city"], "additionalProperties": False}}


def client(gateway):
    return openai.OpenAI(base_url=gateway.base + "/v1", api_key="sk-client-secret", max_retries=0)


def fresh(mocks, model):
    mock = mocks[MODELS[model][0]]
    mock.reset()
    return mock


def only(mock):
    [rec] = mock.requests()
    return rec


def assert_usage(usage, rec):
    assert usage.input_tokens == rec["usage"]["prompt_tokens"]
    assert usage.output_tokens == rec["usage"]["completion_tokens"]
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


@pytest.mark.parametrize("model", list(MODELS))
def test_create_text(gateway, mocks, model):
    mock = fresh(mocks, model)
    name = MODELS[model][3]
    resp = client(gateway).responses.create(model=model, instructions="Be brief.", input="hello there")
    assert resp.object == "response" and resp.status == "completed"
    assert resp.output_text == f"mock {name} says: hello there"
    rec = only(mock)
    assert_usage(resp.usage, rec)
    assert "sk-client-secret" not in json.dumps(rec)
    sent = json.loads(rec["body"])
    if model in NATIVE:
        # passthrough: the client's body, model rewritten
        assert rec["path"].split("?")[0].endswith("/v1/responses")
        assert sent == {"model": MODELS[model][2], "instructions": "Be brief.", "input": "hello there"}
    else:
        assert "responses" not in rec["path"]


@pytest.mark.parametrize("model", list(MODELS))
def test_stream_text(gateway, mocks, model):
    mock = fresh(mocks, model)
    name = MODELS[model][3]
    with client(gateway).responses.stream(model=model, input="stream me please") as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    for k in ["response.output_item.added", "response.content_part.added", "response.output_text.delta",
              "response.output_text.done", "response.content_part.done", "response.output_item.done"]:
        assert k in kinds, (k, kinds)
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == final.output_text == f"mock {name} says: stream me please"
    assert_usage(final.usage, only(mock))


def weather_round_trip(gateway, model, stream):
    c = client(gateway)
    first_input = [{"role": "user", "content": "weather in Paris?"}]
    if stream:
        with c.responses.stream(model=model, input=first_input, tools=[WEATHER]) as s:
            events = list(s)
            first = s.get_final_response()
        deltas = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
        done = [e for e in events if e.type == "response.function_call_arguments.done"]
        assert deltas == done[0].arguments == '{"city":"mock"}'
    else:
        first = c.responses.create(model=model, input=first_input, tools=[WEATHER])
    [call] = [o for o in first.output if o.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "mock"}
    assert call.call_id
    second_input = first_input + [o.model_dump(exclude_none=True) for o in first.output] + [
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}]
    return c.responses.create(model=model, input=second_input, tools=[WEATHER])


@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize("model", list(MODELS))
def test_tool_round_trip(gateway, mocks, model, stream):
    mock = fresh(mocks, model)
    second = weather_round_trip(gateway, model, stream)
    assert second.output_text == f"mock {MODELS[model][3]} got tool result: sunny"
    recs = mock.requests()
    assert len(recs) == 2
    assert_usage(second.usage, recs[1])


class City(BaseModel):
    name: str
    population: int


# Bedrock: structured output is part 4 of the issue (another branch); until then the gateway
# drops text.format for Bedrock with a warning, and the answer is plain text.
@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-sonnet", "gemini-flash", "groq-llama"])
def test_parse_with_a_pydantic_model(gateway, mocks, model):
    fresh(mocks, model)
    resp = client(gateway).responses.parse(model=model, input="a city please", text_format=City)
    assert resp.output_parsed == City(name="mock", population=1)


@pytest.mark.parametrize("field,value", [("previous_response_id", "resp_1"), ("store", True),
                                         ("conversation", "conv_1")])
def test_state_is_refused_where_no_provider_keeps_it(gateway, an, field, value):
    with pytest.raises(openai.BadRequestError) as e:
        client(gateway).responses.create(model="claude-sonnet", input="x", **{field: value})
    assert e.value.body["param"] == field
    assert "keeps no response state" in e.value.body["message"]
    assert an.requests() == []


def test_state_passes_through_to_openai(gateway, oa):
    resp = client(gateway).responses.create(model="gpt-4o-mini", input="again", previous_response_id="resp_1",
                                            store=True)
    assert resp.output_text == "mock openai says: again"
    sent = json.loads(only(oa)["body"])
    assert sent["previous_response_id"] == "resp_1" and sent["store"] is True


def test_retrieve_and_delete_by_id(gateway, oa):
    c = client(gateway)
    got = c.responses.retrieve("resp_abc123")
    assert got.id == "resp_abc123"
    c.responses.delete("resp_abc123")
    get, delete = oa.requests()
    assert (get["method"], get["path"]) == ("GET", "/v1/responses/resp_abc123")
    assert (delete["method"], delete["path"]) == ("DELETE", "/v1/responses/resp_abc123")
    for rec in (get, delete):
        assert rec["headers"]["authorization"] == "Bearer sk-demo-openai"
    status, _, body = http("GET", gateway.base + "/v1/responses/..%2Fchat")
    assert status == 404 and json.loads(body)["error"]["code"] == "unknown_url"


def test_errors_are_openai_shaped(gateway, an):
    status, _, body = http("POST", gateway.base + "/v1/responses", b"{not json",
                           {"content-type": "application/json"})
    assert status == 400 and json.loads(body)["error"]["type"] == "invalid_request_error"
    with pytest.raises(openai.NotFoundError):
        client(gateway).responses.create(model="no-such-model", input="x")
    with pytest.raises(openai.BadRequestError) as e:
        client(gateway).responses.create(model="claude-sonnet", input=[{"type": "item_reference", "id": "x"}])
    assert e.value.body["param"] == "input[0]"
    an.faults([{"status": 500}])
    with pytest.raises(openai.InternalServerError):
        client(gateway).responses.create(model="claude-sonnet", input="x")


@pytest.mark.parametrize("model", ["claude-sonnet", "gpt-4o-mini", "gemini-flash", "claude-bedrock"])
def test_provider_error_mid_stream_ends_in_response_failed(gateway, mocks, model):
    mock = fresh(mocks, model)
    mock.faults([{"error_after_events": 4}])
    with client(gateway).responses.stream(model=model, input="one two three four five") as s:
        events = list(s)
    assert events[-1].type == "response.failed"
    assert events[-1].response.status == "failed"
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_relayed_stream_ending_early_ends_in_response_failed(gateway, oa):
    created = {"type": "response.created", "sequence_number": 0,
               "response": {"id": "resp_x", "object": "response", "status": "in_progress", "output": []}}
    oa.faults([{"body": f"event: response.created\ndata: {json.dumps(created)}\n\n",
                "content_type": "text/event-stream"}])
    with client(gateway).responses.stream(model="gpt-4o-mini", input="x") as s:
        events = list(s)
    assert [e.type for e in events] == ["response.created", "response.failed"]
    assert events[-1].sequence_number == 1
    assert "ended before the response completed" in events[-1].response.error.message


def sums(mock):
    p = c = 0
    for r in mock.requests():
        if r["usage"]:
            p += r["usage"]["prompt_tokens"]
            c += r["usage"]["completion_tokens"]
    return p, c


def test_counters_equal_what_providers_reported(gateway, mocks):
    """The chat exactness test, for Responses traffic: counters equal the providers' reports."""
    names = ["llmgw_requests_total", "llmgw_prompt_tokens_total", "llmgw_completion_tokens_total",
             "llmgw_errors_total"]
    models = ["claude-sonnet", "gpt-4o-mini", "gemini-flash", "claude-bedrock"]
    # metric labels carry model names as spelled (dots and colons included)
    keys = {m: (m, MODELS[m][1], MODELS[m][2]) for m in models}
    used = {m: fresh(mocks, m) for m in models}
    before = {(m, n): gateway.counter(n, *keys[m]) for m in models for n in names}
    c = client(gateway)
    for i in range(6):
        for model in models:
            words = "count me " + "w " * i
            if i % 2:
                with c.responses.stream(model=model, input=words) as s:
                    s.get_final_response()
            else:
                c.responses.create(model=model, input=words, tools=[WEATHER] if i == 4 else None)
    for model in models:
        used[model].faults([{"status": 500}])
        with pytest.raises(openai.InternalServerError):
            c.responses.create(model=model, input="x")
    for model in models:
        p, comp = sums(used[model])
        delta = {n: gateway.counter(n, *keys[model]) - before[(model, n)] for n in names}
        assert delta == {"llmgw_requests_total": 7, "llmgw_prompt_tokens_total": p,
                         "llmgw_completion_tokens_total": comp, "llmgw_errors_total": 1}, model


@pytest.fixture(scope="module")
def strict_gw():
    a, b = Mock("r-a"), Mock("r-b")
    cfg = {
        "providers": [{"name": "pa", "kind": "anthropic", "cluster": "ca", "api_key_env": "DEMO_ANTHROPIC_KEY"},
                      {"name": "pb", "kind": "gemini", "cluster": "cb", "api_key_env": "DEMO_GEMINI_KEY"}],
        "models": [{"name": "claude", "targets": [{"provider": "pa", "model": "claude-x"}]},
                   {"name": "sticky", "strategy": "sticky",
                    "targets": [{"provider": "pa", "model": "claude-x"}, {"provider": "pb", "model": "gemini-x"}]}],
        "strict": True,
    }
    e = Envoy({"ca": a, "cb": b}, plugin_config=cfg, name="responses-strict")
    yield e, a, b
    e.stop()
    a.stop()
    b.stop()


def test_hosted_tools_dropped_by_default_refused_under_strict(gateway, an, strict_gw):
    resp = client(gateway).responses.create(model="claude-sonnet", input="search",
                                            tools=[{"type": "web_search"}])
    assert resp.output_text == "mock anthropic says: search"
    assert "tools" not in json.loads(only(an)["body"])
    e, a, _ = strict_gw
    with pytest.raises(openai.BadRequestError) as err:
        client(e).responses.create(model="claude", input="search", tools=[{"type": "web_search"}])
    assert err.value.body["param"] == "web_search"
    assert err.value.body["code"] == "unsupported_parameter"
    assert a.requests() == []


def test_prompt_cache_key_keeps_a_conversation_on_one_target(strict_gw):
    e, _, _ = strict_gw
    c = client(e)

    def served(key):
        raw = c.responses.with_raw_response.create(model="sticky", input="hi " + key, prompt_cache_key=key)
        return raw.headers["x-llm-provider"]

    for key in ["conv-1", "conv-2", "conv-3"]:
        assert len({served(key) for _ in range(4)}) == 1
    assert {served(f"conv-{i}") for i in range(20)} == {"pa", "pb"}


@pytest.mark.parametrize("model", FOUR)
def test_openai_agents_sdk_runs_an_agent_with_a_tool(gateway, mocks, model):
    """The OpenAI Agents SDK (openai-agents on PyPI), on its default Responses model."""
    agents.set_tracing_disabled(True)  # traces would go to OpenAI's servers
    mock = fresh(mocks, model)
    calls = []

    @agents.function_tool
    def get_weather(city: str) -> str:
        """Weather for a city."""
        calls.append(city)
        return f"sunny in {city}"

    oai = openai.AsyncOpenAI(base_url=gateway.base + "/v1", api_key="sk-client-secret", max_retries=0)
    agent = agents.Agent(name="weather", instructions="Answer with the tool.", tools=[get_weather],
                         model=agents.OpenAIResponsesModel(model=model, openai_client=oai))
    result = agents.Runner.run_sync(agent, "weather in Paris?", max_turns=4)
    assert calls == ["mock"]
    assert result.final_output == f"mock {MODELS[model][3]} got tool result: sunny in mock"
    first, second = mock.requests()
    assert "sk-client-secret" not in json.dumps([first, second])


NODE_DIR = Path(__file__).resolve().parent / "node"


def node_env():
    """Node clients run with no route off the machine: any proxy use is refused."""
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env.update({"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
    return env


@pytest.mark.parametrize("model", FOUR)
def test_vercel_ai_sdk_default_openai_provider(gateway, mocks, model):
    """`openai(model)` of @ai-sdk/openai (the Responses API): generateText, streamText, a tool."""
    assert shutil.which("node") and (NODE_DIR / "node_modules" / "ai").is_dir(), \
        "run ./build.sh setup (installs the Node clients)"
    mock = fresh(mocks, model)
    name = MODELS[model][3]
    out = subprocess.run(["node", str(NODE_DIR / "vercel.mjs"), gateway.base + "/v1", model],
                         capture_output=True, text=True, timeout=60, env=node_env(), cwd=NODE_DIR)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    recs = mock.requests()
    assert len(recs) == 4  # generate, stream, and the tool's two steps
    assert got["generated"]["text"] == f"mock {name} says: hello from vercel"
    assert got["generated"]["finishReason"] == "stop"
    assert got["generated"]["usage"]["inputTokens"] == recs[0]["usage"]["prompt_tokens"]
    assert got["generated"]["usage"]["outputTokens"] == recs[0]["usage"]["completion_tokens"]
    assert got["streamed"]["text"] == f"mock {name} says: stream from vercel"
    assert got["streamed"]["usage"]["outputTokens"] == recs[1]["usage"]["completion_tokens"]
    assert got["tool"] == {"text": f"mock {name} got tool result: sunny in mock", "steps": 2}


CODEX = NODE_DIR / "node_modules" / ".bin" / "codex"


class RefusingProxy:
    """An HTTP(S) proxy on loopback that refuses every request and records what was asked."""

    def __init__(self):
        import socket
        import threading
        self.asked = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    line = conn.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")
                    self.asked.append(line)
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self):
        self.sock.close()


CODEX_CONFIG = """
model = "{model}"
model_provider = "gateway"
check_for_update_on_startup = false
approval_policy = "never"
sandbox_mode = "read-only"

[model_providers.gateway]
name = "LLM gateway"
base_url = "{base}/v1"
wire_api = "responses"
env_key = "GATEWAY_API_KEY"

[analytics]
enabled = false

[feedback]
enabled = false

[otel]
exporter = "none"
"""


def connects(trace):
    """(family, address) of every connect() in an strace log."""
    import re
    out = []
    for line in trace.splitlines():
        m = re.search(r"connect\(\d+, \{sa_family=(AF_INET6?|AF_UNIX|AF_NETLINK)[^}]*?"
                      r"(?:inet_addr\(\"([^\"]+)\"\)|inet_pton\(AF_INET6, \"([^\"]+)\")?", line)
        if m:
            out.append((m.group(1), m.group(2) or m.group(3)))
    return out


@pytest.mark.parametrize("model", FOUR)
def test_codex_cli_completes_a_task(gateway, mocks, model, tmp_path):
    """`codex exec` with the gateway as its model provider (wire_api = "responses"), telemetry
    off, every proxied connection refused, and every connect() it makes traced: none may leave
    the machine."""
    assert CODEX.exists(), "run ./build.sh setup (installs the Node clients)"
    assert shutil.which("strace"), "strace is needed to check where Codex connects"
    mock = fresh(mocks, model)
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(CODEX_CONFIG.format(model=model, base=gateway.base))
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("the answer is 42\n")
    proxy = RefusingProxy()
    trace = tmp_path / "connect.trace"
    env = node_env()
    env.update({"HOME": str(tmp_path), "CODEX_HOME": str(home), "GATEWAY_API_KEY": "sk-client-secret",
                "HTTPS_PROXY": proxy.url, "HTTP_PROXY": proxy.url, "ALL_PROXY": proxy.url,
                "https_proxy": proxy.url, "http_proxy": proxy.url, "all_proxy": proxy.url,
                "RUST_LOG": "warn"})
    try:
        out = subprocess.run(
            ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace),
             str(CODEX), "exec", "--skip-git-repo-check", "--strict-config", "-C", str(work),
             "Run `cat notes.txt` and tell me the answer."],
            capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)
    finally:
        proxy.close()
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-3000:])
    recs = mock.requests()
    assert len(recs) >= 2, out.stderr[-3000:]
    name = MODELS[model][3]
    # The task: Codex ran the command the model asked for, and answered with its output.
    assert f"mock {name} got tool result:" in out.stdout, (out.stdout[-2000:], out.stderr[-2000:])
    assert "the answer is 42" in out.stdout, (out.stdout[-2000:], out.stderr[-2000:])
    for rec in recs:
        assert "sk-client-secret" not in json.dumps(rec)
    # Nothing left the machine: every TCP/UDP connect went to loopback (the gateway, the proxy).
    remote = [(fam, addr) for fam, addr in connects(trace.read_text())
              if fam in ("AF_INET", "AF_INET6") and addr not in ("127.0.0.1", "::1", None)]
    assert remote == [], (remote, proxy.asked)
    # Codex did try to leave (its vendor's site, GitHub): through the proxy, which refused.
    assert proxy.asked and all(line.startswith("CONNECT ") for line in proxy.asked), proxy.asked


@pytest.fixture(scope="module")
def fo():
    from test_failover import CONFIG, no_ejection
    oa, an = Mock("fo-openai"), Mock("fo-anthropic")
    e = Envoy(config_file=CONFIG, ports={18081: oa, 18082: an}, edit=no_ejection, name="responses-failover")
    yield e, oa, an
    e.stop()
    oa.stop()
    an.stop()


@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
def test_failover_inside_one_request(fo, stream):
    """A failover model: each attempt translates the Responses request for its endpoint."""
    e, oa, an = fo
    oa.reset()
    an.reset()
    c = client(e)
    r = c.responses.with_raw_response.create(model="smart-failover", input="hi", stream=stream)
    assert r.headers["x-llm-provider"] == "openai"
    if not stream:
        assert r.parse().output_text == "mock fo-openai says: hi"
    [rec] = oa.requests()
    assert rec["path"] == "/v1/responses" and json.loads(rec["body"])["model"] == "gpt-4o"
    oa.reset()
    oa.faults([{"status": 503}])
    if stream:
        with c.responses.stream(model="smart-failover", input="hi") as s:
            final = s.get_final_response()
    else:
        final = c.responses.create(model="smart-failover", input="hi")
    assert final.output_text == "mock fo-anthropic says: hi"
    [rec] = an.requests()
    assert rec["path"] == "/v1/messages"
    assert final.usage.input_tokens == rec["usage"]["prompt_tokens"]
