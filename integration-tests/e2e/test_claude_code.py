"""Anthropic-shaped clients beyond messages.create, through real Envoy on the demo config:
the `anthropic` SDK's `messages.count_tokens` (counted by the Anthropic provider, estimated
by the gateway for OpenAI-format ones), and Claude Code itself (`claude -p`, installed by build.sh
from npm) completing a task with a tool round trip on an Anthropic, a Gemini, a Bedrock and
an OpenAI-format model, with telemetry off and every connection that is not to the gateway
sent to a local proxy that refuses and records it."""

import json
import os
import socket
import subprocess
import threading
from pathlib import Path

import anthropic
import pytest

CLAUDE = Path(__file__).resolve().parent / "claude-code" / "node_modules" / ".bin" / "claude"

# model alias → (mock fixture name, provider label)
MODELS = {
    "claude-sonnet": "anthropic_mock",
    "gemini-flash": "gemini_mock",
    "claude-bedrock": "bedrock_mock",
    "gpt-4o-mini": "openai_mock",
}

PROMPT = "Read the file notes.txt and say what it holds [mock-tool:Read]"


def client(gateway):
    return anthropic.Anthropic(base_url=gateway.base, api_key="sk-ant-client-secret", max_retries=0)


def fresh(mocks, name):
    mocks[name].reset()
    return mocks[name]


COUNT_BODY = dict(
    system="be brief",
    messages=[{"role": "user", "content": "how many tokens are in this question?"}],
    tools=[{"name": "get_weather", "description": "Weather for a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
)


def test_count_tokens_is_counted_by_the_anthropic_provider(gateway, mocks):
    an = fresh(mocks, "anthropic_mock")
    raw = client(gateway).messages.with_raw_response.count_tokens(model="claude-sonnet", **COUNT_BODY)
    counted = raw.parse()
    assert raw.headers.get("x-llm-gateway-token-count") is None
    [rec] = an.requests()
    assert rec["path"] == "/v1/messages/count_tokens"
    assert rec["headers"]["x-api-key"] == "sk-ant-demo"
    assert "sk-ant-client-secret" not in json.dumps(rec)
    sent = json.loads(rec["body"])
    assert sent["model"] == "claude-sonnet-4-5" and "max_tokens" not in sent
    # The mock's own count: what it charges as prompt tokens, plus the tool's words.
    assert counted.input_tokens > 10


# Vertex AI, Gemini and Bedrock count themselves (test_provider_counts.py).
@pytest.mark.parametrize("model", ["gpt-4o-mini", "groq-llama", "azure-gpt"])
def test_count_tokens_is_estimated_for_other_providers(gateway, mocks, model):
    for m in mocks.values():
        m.reset()
    raw = client(gateway).messages.with_raw_response.count_tokens(model=model, **COUNT_BODY)
    assert raw.headers["x-llm-gateway-token-count"] == "estimated"
    short = raw.parse().input_tokens
    longer = dict(COUNT_BODY, messages=[{"role": "user", "content": "how many tokens? " * 50}])
    long = client(gateway).messages.count_tokens(model=model, **longer).input_tokens
    assert 10 < short < long
    assert all(not m.requests() for m in mocks.values()), "an estimate calls no provider"


def test_count_tokens_refuses_what_messages_refuse(gateway):
    with pytest.raises(anthropic.NotFoundError) as e:
        client(gateway).messages.count_tokens(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    assert e.value.body["type"] == "error"
    with pytest.raises(anthropic.BadRequestError) as e:
        client(gateway).messages.count_tokens(model="gpt-4o-mini", messages=[])
    assert e.value.body["error"]["type"] == "invalid_request_error"


class RefusingProxy:
    """An HTTP proxy on loopback that answers every request (CONNECT included) with 403
    and records its first line: anything Claude Code tries to reach besides the gateway."""

    def __init__(self):
        self.seen = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    first = conn.recv(4096).split(b"\r\n", 1)[0]
                    self.seen.append(first.decode(errors="replace"))
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError as e:
                    self.seen.append(repr(e))

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def proxy():
    p = RefusingProxy()
    yield p
    p.close()


def run_claude(gateway, proxy, home, model, prompt):
    assert CLAUDE.exists(), f"{CLAUDE} is missing: ./build.sh test installs it (npm ci in its folder)"
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith(("ANTHROPIC_", "CLAUDE_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "AWS_"))}
    env.update(
        HOME=str(home), ANTHROPIC_BASE_URL=gateway.base, ANTHROPIC_API_KEY="sk-ant-client-secret",
        DISABLE_TELEMETRY="1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1",
        HTTPS_PROXY=proxy.url, HTTP_PROXY=proxy.url, https_proxy=proxy.url, http_proxy=proxy.url,
        NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
    )
    p = subprocess.run([str(CLAUDE), "-p", prompt, "--output-format", "json", "--model", model],
                       env=env, cwd=home, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"claude exited {p.returncode}: {p.stderr[-2000:]} {p.stdout[-2000:]}"
    return json.loads(p.stdout)


@pytest.mark.parametrize("model", list(MODELS))
def test_claude_code_completes_a_task(gateway, mocks, proxy, tmp_path, model):
    mock = fresh(mocks, MODELS[model])
    before = len(proxy.seen)
    out = run_claude(gateway, proxy, tmp_path, model, PROMPT)
    assert out["is_error"] is False, out
    # The mock called Claude Code's Read tool; Claude Code ran it (no such file) and sent
    # the result back; the mock's answer to a tool result closes the task.
    assert out["result"].startswith(f"mock {mock.name} got tool result:"), out["result"]
    assert "File does not exist" in out["result"]
    reqs = mock.requests()
    assert len(reqs) == 2, [r["path"] for r in reqs]
    assert all(r["status"] == 200 for r in reqs)
    assert "sk-ant-client-secret" not in json.dumps(reqs)
    assert proxy.seen[before:] == [], "Claude Code reached for something besides the gateway"
    second = json.loads(reqs[1]["body"])
    if model == "claude-sonnet":
        # Passed through: Claude Code's betas, thinking/effort and cache_control as sent.
        assert "claude-code-" in reqs[1]["headers"]["anthropic-beta"]
        assert second["output_config"]["effort"] and "context_management" in second
        assert any("cache_control" in b for b in second["system"])
        assert second["messages"][-1]["content"][0]["type"] == "tool_result"
    elif model == "gpt-4o-mini":
        # Claude Code's system entry (it sends one for model names it does not know)
        # stays a system message after the first user turn. Its adaptive thinking is the
        # provider's default: no reasoning_effort (gpt-4o-mini would refuse it).
        roles = [m["role"] for m in second["messages"]]
        assert roles[0] == "system" and "system" in roles[2:] and roles[-2:] == ["assistant", "tool"]
        assert "reasoning_effort" not in second
    elif model == "gemini-flash":
        assert "thinkingConfig" not in second.get("generationConfig", {})
        assert "functionResponse" in second["contents"][-1]["parts"][0]
    else:
        assert "additionalModelRequestFields" not in second
        assert "toolResult" in second["messages"][-1]["content"][0]
