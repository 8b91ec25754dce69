"""The shipped client examples work against the gateway as written."""

import os
import subprocess
import sys

from harness import ROOT


def test_openai_sdk_example(gateway):
    r = subprocess.run([sys.executable, str(ROOT / "examples/clients/openai_sdk.py")], capture_output=True,
                       text=True, timeout=60, env=dict(os.environ, LLM_GATEWAY_URL=gateway.base))
    assert r.returncode == 0, r.stderr
    assert "mock anthropic says: Hello!" in r.stdout
    assert "tool call: get_weather {'city': 'mock'}" in r.stdout
    assert "mock anthropic got tool result: sunny, 21C" in r.stdout


def test_curl_example(gateway):
    r = subprocess.run(["bash", str(ROOT / "examples/clients/curl.sh")], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, GW=gateway.base))
    assert r.returncode == 0, r.stderr
    assert "data: [DONE]" in r.stdout and '"object":"list"' in r.stdout
