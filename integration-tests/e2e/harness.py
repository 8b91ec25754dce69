"""Start mock providers and a real Envoy (V8 runtime) with the llm-gateway filter.

The Envoy configuration is envoy-config/demo.yaml itself; tests only move its ports and,
when a test needs it, replace the plugin configuration."""

import copy
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ENVOY = ROOT / ".venv" / "bin" / "envoy"
MOCK = ROOT / "target" / "release" / "mock-provider"
WASM = ROOT / "target" / "wasm32-wasip1" / "release" / "llm_gateway.wasm"
DEMO = ROOT / "envoy-config" / "demo.yaml"
LOGS = ROOT / ".run" / "e2e"

KEYS = {"DEMO_OPENAI_KEY": "sk-demo-openai", "DEMO_ANTHROPIC_KEY": "sk-ant-demo",
        "DEMO_GEMINI_KEY": "demo-gemini-key", "DEMO_VERTEX_TOKEN": "ya29.demo-vertex-token"}
KEYS.update({"DEMO_AZURE_KEY": "azure-demo-key", "DEMO_GROQ_KEY": "gsk-demo"})
KEYS.update({"DEMO_AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
             "DEMO_AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
             "DEMO_AWS_SESSION_TOKEN": "demo-session-token"})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=10):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class Mock:
    def __init__(self, name):
        self.name = name
        LOGS.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [str(MOCK), "--listen", "127.0.0.1:0", "--name", name],
            stdout=subprocess.PIPE, stderr=open(LOGS / f"mock-{name}.log", "w"), text=True,
        )
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        self.port = int(line.rsplit(":", 1)[1])
        self.base = f"http://127.0.0.1:{self.port}"

    def requests(self):
        return json.loads(http("GET", self.base + "/__mock/requests")[2])

    def reset(self):
        http("DELETE", self.base + "/__mock/requests")

    def faults(self, specs):
        status, _, body = http("POST", self.base + "/__mock/faults", specs)
        assert status == 200, body

    def default_fault(self, spec):
        status, _, body = http("POST", self.base + "/__mock/default_fault", json.dumps(spec).encode())
        assert status == 200, body

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def demo_plugin_config(batched_usage=False):
    """The demo's plugin configuration. Without `batched_usage`, usage is written per
    request (`usage_flush_ms` dropped) so that tests can read exact counters at once."""
    doc = yaml.safe_load(DEMO.read_text())
    cfg = json.loads(_wasm_filter(doc)["typed_config"]["config"]["configuration"]["value"])
    if not batched_usage:
        cfg.pop("usage_flush_ms", None)
    return cfg


def _wasm_filter(doc):
    hcm = doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    return next(f for f in hcm["typed_config"]["http_filters"] if f["name"] == "llm-gateway")


class Envoy:
    """Envoy from demo.yaml with the given mocks as its clusters (cluster name → Mock).
    With `config_file` and `ports`, that file instead, its fixed ports mapped to the mocks'."""

    def __init__(self, clusters=None, plugin_config=None, concurrency=2, name="envoy",
                 config_file=None, ports=None, edit=None, wasm=WASM, batched_usage=False):
        self.port, self.admin_port = free_port(), free_port()
        if config_file is not None:
            text = Path(config_file).read_text()
            text = text.replace("target/wasm32-wasip1/release/llm_gateway.wasm", str(WASM))
            for fixed, mock in (ports or {}).items():
                text = text.replace(f"port_value: {fixed}}}", f"port_value: {mock.port}}}")
            doc = yaml.safe_load(text)
            doc["admin"]["address"]["socket_address"]["port_value"] = self.admin_port
            doc["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] = self.port
            if edit:
                edit(doc)
            self._start(doc, concurrency, name)
            return
        doc = yaml.safe_load(DEMO.read_text())
        doc["admin"]["address"]["socket_address"]["port_value"] = self.admin_port
        listener = doc["static_resources"]["listeners"][0]
        listener["address"]["socket_address"]["port_value"] = self.port
        filt = _wasm_filter(doc)["typed_config"]["config"]
        filt["vm_config"]["code"]["local"]["filename"] = str(wasm)
        if plugin_config is None:
            plugin_config = demo_plugin_config(batched_usage)
        filt["configuration"]["value"] = json.dumps(plugin_config)
        template = doc["static_resources"]["clusters"][0]
        doc["static_resources"]["clusters"] = []
        for cname, mock in clusters.items():
            c = copy.deepcopy(template)
            c["name"] = cname
            c["load_assignment"]["cluster_name"] = cname
            ep = c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
            ep["address"]["socket_address"]["port_value"] = mock.port
            doc["static_resources"]["clusters"].append(c)
        if edit:
            edit(doc)
        self._start(doc, concurrency, name)

    def _start(self, doc, concurrency, name):
        LOGS.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.config_path = LOGS / f"{name}.yaml"
        self.log_path = LOGS / f"{name}.log"
        # A port free_port() found can be taken by another process before Envoy binds it:
        # start again on fresh ports (only for that failure).
        for attempt in range(3):
            self.config_path.write_text(yaml.safe_dump(doc))
            self._spawn(concurrency, name)
            try:
                self._wait_ready()
                return
            except RuntimeError:
                if attempt == 2 or "Address already in use" not in self.log_path.read_text():
                    raise
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
            self.port, self.admin_port = free_port(), free_port()
            doc["admin"]["address"]["socket_address"]["port_value"] = self.admin_port
            doc["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] = self.port

    def _spawn(self, concurrency, name):
        env = dict(os.environ, **KEYS)
        self.proc = subprocess.Popen(
            [str(ENVOY), "-c", str(self.config_path), "--concurrency", str(concurrency),
             "--disable-hot-restart", "-l", "info"],
            stdout=open(LOGS / f"{name}.access.log", "w"), stderr=open(self.log_path, "w"), env=env,
        )
        self.base = f"http://127.0.0.1:{self.port}"

    def _wait_ready(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("envoy exited:\n" + self.log_path.read_text()[-3000:])
            try:
                status, _, body = http("GET", f"http://127.0.0.1:{self.admin_port}/ready", timeout=1)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("envoy not ready:\n" + self.log_path.read_text()[-3000:])

    def chat(self, body, headers=None):
        h = {"content-type": "application/json"}
        h.update(headers or {})
        return http("POST", self.base + "/v1/chat/completions", body, h, timeout=30)

    def stats(self):
        """Counters from /stats/prometheus: {(name, frozenset(labels)): value}."""
        text = http("GET", f"http://127.0.0.1:{self.admin_port}/stats/prometheus")[2].decode()
        out = {}
        for line in text.splitlines():
            if not line.startswith(("llmgw_", "gen_ai_")):
                continue
            metric, value = line.rsplit(" ", 1)
            name, _, labels = metric.partition("{")
            pairs = frozenset(
                tuple(kv.split("=", 1)) for kv in labels.rstrip("}").replace('"', "").split(",") if kv
            )
            out[(name, pairs)] = int(float(value))
        return out

    def counter(self, name, model, provider, upstream_model, **labels):
        """Sum of a counter over all series with these labels (and any others)."""
        want = {("gen_ai_request_model", model), ("llm_provider", provider),
                ("gen_ai_response_model", upstream_model)} | set(labels.items())
        return sum(v for (n, ls), v in self.stats().items() if n == name and want <= ls)

    def access_log(self):
        return (LOGS / f"{self.name}.access.log").read_text()

    def log(self):
        return self.log_path.read_text()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
