"""The OTLP collectors of the traces scenarios (bench.py `filter-traces-*`): one that accepts
TCP connections and never answers, a port where nothing listens, and, to tell the cost of
tracing itself from that of a broken collector, one that answers every export at once. A span
export must cost requests nothing when the collector hangs or is down (README "Traces"); the
benchmark shows it."""

import http.server
import json
import re
import selectors
import socket
import threading
import urllib.request

# Connections the hanging collector holds at most; beyond, it closes the oldest (Envoy opens
# one per export call in flight: a handful per worker while calls wait for their timeout).
MAX_CONNS = 256
# It reads and discards at most this much per connection, then stops reading (the socket's
# buffers fill and the sender waits, as against a collector that stalls).
MAX_READ = 1 << 20


class HangingCollector:
    """Accepts on a loopback port, reads a little of each export call, never answers. Runs in
    a thread of the benchmark process, stopped (every socket closed) by `stop`."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ)
        self.conns = {}  # socket -> bytes read
        self.accepted = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="hanging-collector", daemon=True)
        self.thread.start()

    def _close(self, s):
        self.conns.pop(s, None)
        try:
            self.sel.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()

    def _run(self):
        while not self.stopping.is_set():
            for key, _ in self.sel.select(timeout=0.2):
                s = key.fileobj
                if s is self.listener:
                    try:
                        c, _ = self.listener.accept()
                    except OSError:
                        continue
                    c.setblocking(False)
                    self.accepted += 1
                    if len(self.conns) >= MAX_CONNS:
                        self._close(next(iter(self.conns)))
                    self.conns[c] = 0
                    self.sel.register(c, selectors.EVENT_READ)
                    continue
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    self._close(s)  # Envoy gave up on the call and closed it
                    continue
                self.conns[s] += len(data)
                if self.conns[s] >= MAX_READ:
                    self.sel.unregister(s)  # hold it, unread

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=5)
        for s in list(self.conns):
            s.close()
        self.conns.clear()
        self.sel.close()
        self.listener.close()


class AnsweringCollector:
    """Answers every `POST /v1/traces` with 200 and an empty OTLP response (body read, not
    decoded), in a thread of the benchmark process."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            n = int(self.headers.get("content-length") or 0)
            self.rfile.read(min(n, 64 << 20))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    def __init__(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self.Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="answering-collector", daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def traces_config(doc, collector_port):
    """`traces` in the filter's configuration (defaults: flush 1 s, timeout 5 s, queue 2048)
    and the collector's cluster at `collector_port`."""
    hcm = doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    f = next(f for f in hcm["http_filters"] if f["name"] == "llm-gateway")
    value = f["typed_config"]["config"]["configuration"]
    cfg = json.loads(value["value"])
    cfg["traces"] = {"cluster": "otel_collector"}
    value["value"] = json.dumps(cfg)
    clusters = doc["static_resources"]["clusters"]
    otel = json.loads(json.dumps(clusters[0]))
    otel["name"] = otel["load_assignment"]["cluster_name"] = "otel_collector"
    otel.pop("transport_socket", None)
    otel["load_assignment"]["endpoints"][0]["lb_endpoints"] = [
        {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": collector_port}}}}]
    clusters.append(otel)


def spans_dropped(admin_port):
    """llmgw_trace_spans_dropped_total from Envoy's admin (summed over its series)."""
    url = f"http://127.0.0.1:{admin_port}/stats/prometheus"
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode()
    return sum(float(m.group(1)) for m in
               re.finditer(r"^llmgw_trace_spans_dropped_total(?:\{[^}]*\})?\s+(\S+)$", text, re.M))


def traces_report(results, rows, latency):
    """Markdown: the traces scenarios side by side (empty when none was measured)."""
    keys = [k for k in ("filter-traces-off", "filter-traces-ok", "filter-traces-hang", "filter-traces-down")
            if k in results["targets"] and (results["targets"][k]["runs"] or latency.get(k))]
    if not keys:
        return []
    L = ["## Traces: a collector that hangs or is down", "",
         "The same request to the same mock with `traces` off, with `traces` to a collector that answers "
         "at once, to one that accepts TCP and never answers (`bench/collectors.py`), and to a loopback "
         "port where nothing listens (defaults: flush 1 s, export timeout 5 s, queue 2048). The export "
         "runs on the root context's timer; requests only queue their span. p50/p99 one at a time pool "
         "every repetition's requests (the per-repetition p50s in brackets: the noise); RPS is the "
         "median over repetitions. Dropped spans: `llmgw_trace_spans_dropped_total` from Envoy's admin "
         "before the warm-up and after the target's runs (summed over repetitions).", "",
         "| target | p50 ms one at a time | p99 ms one at a time | RPS at 16 connections | spans dropped |",
         "|---|---:|---:|---:|---:|"]
    for k in keys:
        t = results["targets"][k]
        lat = latency.get(k, {})
        r16 = rows.get((k, 16), {})
        drops = t.get("spans_dropped")
        dropped = f"{sum(d['after'] - d['before'] for d in drops):,.0f}" if drops else "–"
        reps = sorted(sorted(s["ms"])[len(s["ms"]) // 2] for s in t.get("latency", []) if s["ms"])
        spread = f" ({reps[0]:.3f}–{reps[-1]:.3f})" if len(reps) > 1 else ""
        p50 = f"{lat['p50']:.3f}{spread}" if lat else "–"
        p99 = f"{lat['p99']:.3f}" if lat else "–"
        rps = f"{r16['rps']:,.0f}" if r16 else "–"
        L.append(f"| {t['label']} | {p50} | {p99} | {rps} | {dropped} |")
    return L + [""]
