"""An OTLP/HTTP JSON receiver on loopback for the e2e tests, and the Envoy cluster `otel`
that points at it."""

import http.server as http_server
import json
import threading
import time

from harness import free_port


class Collector:
    """Keeps every body it is sent (`bodies`) and the spans decoded from them (`spans`),
    answers 200; with `hang`, holds each call for `hang` seconds before answering."""

    def __init__(self, hang=0.0):
        self.spans, self.bodies, self.calls, self.hang = [], [], 0, hang
        owner = self

        class Handler(http_server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                owner.calls += 1
                owner.bodies.append(body)
                if owner.hang:
                    time.sleep(owner.hang)
                if self.path == "/v1/traces" and self.headers.get("content-type") == "application/json":
                    owner._decode(body)
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *a):
                pass

        self.port = free_port()
        self.server = http_server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _decode(self, body):
        doc = json.loads(body)
        for rs in doc["resourceSpans"]:
            service = {a["key"]: a["value"] for a in rs["resource"]["attributes"]}
            for ss in rs["scopeSpans"]:
                for sp in ss["spans"]:
                    sp["service"] = service["service.name"]["stringValue"]
                    self.spans.append(sp)

    def stop(self):
        self.server.shutdown()

    def span(self, pred, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [s for s in self.spans if pred(s)]
            if found:
                return found
            time.sleep(0.1)
        return []


def add_cluster(doc, collector):
    """Appends the cluster `otel` on `collector`'s port to an Envoy config document."""
    doc["static_resources"]["clusters"].append(
        {"name": "otel", "type": "STATIC", "connect_timeout": "1s",
         "load_assignment": {"cluster_name": "otel", "endpoints": [{"lb_endpoints": [
             {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1",
                                                          "port_value": collector.port}}}}]}]}})
