"""The Istio manifests in examples/istio: their Envoy fragments, assembled the way Istio
would place them, pass `envoy --mode validate` (which also loads the .wasm and runs the
filter's configuration check on the plugin configuration they carry)."""

import json
import os
import subprocess

import yaml

from harness import ENVOY, LOGS, ROOT, WASM

ISTIO = ROOT / "examples" / "istio"
ENV = {"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "sk-ant-test"}


def validate(doc, name):
    LOGS.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(doc).replace("/etc/llm-gateway/llm_gateway.wasm", str(WASM))
    path = LOGS / f"{name}.yaml"
    path.write_text(text)
    return subprocess.run([str(ENVOY), "--mode", "validate", "-c", str(path), "--disable-hot-restart"],
                          capture_output=True, text=True, env=dict(os.environ, **ENV), timeout=120)


def skeleton(http_filter, routes, clusters, before=(), hcm_merge=None):
    hcm = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "gw",
        "route_config": {"name": "r", "virtual_hosts": [{"name": "v", "domains": ["*"], "routes": routes}]},
        "http_filters": [*before, http_filter, {"name": "envoy.filters.http.router", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
    }
    hcm.update((hcm_merge or {}).get("typed_config", {}))
    # Istio names its outbound clusters like this; stand-ins so the names resolve.
    stand_ins = [{"name": n, "type": "STATIC", "connect_timeout": "1s",
                  "load_assignment": {"cluster_name": n, "endpoints": []}}
                 for n in ("outbound|443||api.openai.com", "outbound|443||api.anthropic.com",
                           "outbound|443||llm-smart.llm.svc.cluster.local")]
    return {"static_resources": {
        "listeners": [{"name": "l", "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
                       "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                                       "typed_config": hcm}]}]}],
        "clusters": clusters + stand_ins}}


def test_envoyfilter_fragments_assemble_and_validate():
    docs = list(yaml.safe_load_all((ISTIO / "envoyfilter-llm-gateway.yaml").read_text()))
    patches = [p for d in docs for p in d["spec"]["configPatches"]]
    by_kind = {p["applyTo"]: p["patch"] for p in patches}
    assert by_kind["HTTP_FILTER"]["operation"] == "INSERT_BEFORE"
    assert by_kind["CLUSTER"]["operation"] == "ADD"
    # Inserted before the router in order: the decompressor, then the filter.
    filters = [p["patch"]["value"] for p in patches if p["applyTo"] == "HTTP_FILTER"]
    assert [f["name"] for f in filters] == ["envoy.filters.http.decompressor", "llm-gateway"]
    # Envoy's own replies on /v1/ become JSON errors (merged into the gateway's HCM).
    assert "local_reply_config" in by_kind["NETWORK_FILTER"]["value"]["typed_config"]
    doc = skeleton(filters[-1], [by_kind["HTTP_ROUTE"]["value"]],
                   [by_kind["CLUSTER"]["value"]], before=filters[:-1],
                   hcm_merge=by_kind["NETWORK_FILTER"]["value"])
    r = validate(doc, "istio-envoyfilter")
    assert r.returncode == 0, r.stderr[-3000:]
    # both positions configured their plugin
    assert "llm-upstream: llm-gateway: configured 2 providers" in r.stderr
    assert "llm-gateway: llm-gateway: configured" in r.stderr


def test_wasmplugin_config_is_accepted_by_the_filter():
    wp = yaml.safe_load((ISTIO / "wasmplugin-gateway.yaml").read_text())
    spec = wp["spec"]
    assert wp["kind"] == "WasmPlugin"
    env_keys = [e["name"] for e in spec["vmConfig"]["env"]]
    http_filter = {"name": "llm-gateway", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
        "config": {
            "name": spec["pluginName"], "root_id": spec["pluginName"], "allow_on_headers_stop_iteration": True,
            "vm_config": {"runtime": "envoy.wasm.runtime.v8", "code": {"local": {"filename": str(WASM)}},
                          "environment_variables": {"host_env_keys": env_keys}},
            "configuration": {"@type": "type.googleapis.com/google.protobuf.StringValue",
                              "value": json.dumps(spec["pluginConfig"])},
        }}}
    doc = skeleton(http_filter, [{"match": {"prefix": "/"}, "route": {"cluster_header": "x-llm-cluster"}}], [])
    r = validate(doc, "istio-wasmplugin")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "configured 3 providers, 2 models" in r.stderr


def test_a_broken_plugin_config_would_be_refused():
    wp = yaml.safe_load((ISTIO / "wasmplugin-gateway.yaml").read_text())
    wp["spec"]["pluginConfig"]["models"][0]["targets"][0]["provider"] = "nope"
    http_filter = {"name": "llm-gateway", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
        "config": {"root_id": "llm-gateway", "vm_config": {
            "runtime": "envoy.wasm.runtime.v8", "code": {"local": {"filename": str(WASM)}},
            "environment_variables": {"host_env_keys": list(ENV)}},
            "configuration": {"@type": "type.googleapis.com/google.protobuf.StringValue",
                              "value": json.dumps(wp["spec"]["pluginConfig"])}}}}
    r = validate(skeleton(http_filter, [], []), "istio-broken")
    assert r.returncode != 0
    assert "models[0].targets[0].provider" in r.stderr


def test_real_providers_config_validates():
    env = dict(os.environ, OPENAI_API_KEY="a", ANTHROPIC_API_KEY="b", GEMINI_API_KEY="c",
               AWS_ACCESS_KEY_ID="d", AWS_SECRET_ACCESS_KEY="e")
    text = (ROOT / "envoy-config" / "real-providers.yaml").read_text().replace(
        "target/wasm32-wasip1/release/llm_gateway.wasm", str(WASM))
    path = LOGS / "real-providers.yaml"
    LOGS.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    r = subprocess.run([str(ENVOY), "--mode", "validate", "-c", str(path)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
