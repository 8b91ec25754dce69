"""The Istio manifests in examples/istio.

* Every Istio resource validates against the schema of its CRD (examples/istio/crds, extracted
  from Istio's crd-all.gen.yaml) with jsonschema, strictly: an unknown field is an error (the
  API server would silently prune it).
* The Envoy configuration they produce, assembled here the way istiod and istio-agent would
  (the gateway listener with the HTTP_FILTER patch in its chain, the extension configs served
  by ECDS — from files, as there is no control plane —, the module fetched over HTTP by its
  sha256, the route configuration of the Gateway + VirtualService with the HTTP_ROUTE patch
  first, Istio's outbound clusters from each ServiceEntry + DestinationRule with TLS
  origination and SNI, the CLUSTER patch, the stats tags of the bootstrap override and a stats
  matcher from proxyStatsMatcher, the keys from the Secret in the environment), runs in real
  Envoy: chat and stream requests reach the mock providers through TLS with the right SNI.
* The sidecar variant the same way, on an inbound listener that requires mTLS: a caller's SPIFFE
  identity is its key.
* envoy-config/real-providers.yaml is safe by default and passes `envoy --mode validate`.
"""

import copy
import hashlib
import gzip
import http.server as httpserver
import json
import os
import subprocess
import ssl
import threading
import urllib.error
import urllib.request

import jsonschema
import pytest
import yaml

from harness import ENVOY, KEYS, LOGS, ROOT, WASM, Envoy, free_port, http

ISTIO = ROOT / "examples" / "istio"
SCHEMAS = json.loads((ISTIO / "crds" / "istio-crd-schemas.json").read_text())
VERSION = next(line.split('"')[1] for line in (ROOT / "Cargo.toml").read_text().splitlines()
               if line.startswith("version = "))
WASM_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"
HOST = "llm.example.com"
EXAMPLE_KEY = "sk-llm-REPLACE-ME"
K8S_KINDS = {"Secret", "ConfigMap", "Service", "Deployment"}


def load(name):
    return [d for d in yaml.safe_load_all((ISTIO / name).read_text()) if d]


def manifests():
    return sorted(p.name for p in ISTIO.glob("*.yaml"))


# --- CRD schemas ---------------------------------------------------------------------------

def strict(schema):
    """The CRD schema with unknown fields refused where the CRD lists the fields (Kubernetes
    prunes them instead, so a misspelt field would be dropped without a word)."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if ("properties" in node and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(schema)
    return schema


def crd_errors(doc):
    group, version = doc["apiVersion"].split("/")
    schema = SCHEMAS[f"{group}/{version}/{doc['kind']}"]
    body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
    validator = jsonschema.Draft7Validator(strict(schema))
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]


@pytest.mark.parametrize("name", manifests())
def test_manifest_validates_against_the_istio_crds(name):
    docs = load(name)
    assert docs
    if name == "ingressgateway-patch.yaml":
        # A strategic-merge patch of the gateway Deployment, not a resource.
        assert [c["name"] for c in docs[0]["spec"]["template"]["spec"]["containers"]] == ["istio-proxy"]
        return
    for doc in docs:
        assert doc["metadata"]["name"] and doc["metadata"]["namespace"]
        if doc["apiVersion"].split("/")[0].endswith("istio.io"):
            assert crd_errors(doc) == [], (name, doc["kind"], doc["metadata"]["name"])
        else:
            assert doc["kind"] in K8S_KINDS, (name, doc["kind"])


def test_the_validator_refuses_a_misspelt_field_and_a_wrong_enum():
    gw = load("gateway.yaml")[0]
    bad = copy.deepcopy(gw)
    bad["spec"]["servers"][0]["hostz"] = bad["spec"]["servers"][0].pop("hosts")
    assert any("hostz" in e for e in crd_errors(bad))
    ef = load("gateway-envoyfilter.yaml")[0]
    bad = copy.deepcopy(ef)
    bad["spec"]["configPatches"][0]["applyTo"] = "EXTENSION_CONFIGS"
    assert any("EXTENSION_CONFIGS" in e for e in crd_errors(bad))


def test_wasmplugin_and_trafficextension_cannot_let_the_filter_wait_for_the_body():
    # Why the manifests use EnvoyFilter: no field of either CRD carries the flag.
    def fields(node):
        if isinstance(node, dict):
            for k, v in node.get("properties", {}).items():
                yield k
                yield from fields(v)
            for k, v in node.items():
                if k != "properties":
                    yield from fields(v)
        elif isinstance(node, list):
            for v in node:
                yield from fields(v)
    for kind in ("WasmPlugin", "TrafficExtension"):
        names = {f for key, schema in SCHEMAS.items() if key.endswith(f"/{kind}") for f in fields(schema)}
        assert {"pluginConfig", "url"} <= names or {"wasm"} <= names, (kind, sorted(names)[:30])
        assert not {n for n in names if "stop" in n.lower() or "headers" in n.lower()}, kind
    # ...while the Wasm filter's configuration in an EXTENSION_CONFIG patch is Envoy's own.
    ef = load("gateway-envoyfilter.yaml")[0]
    assert patches(ef, "EXTENSION_CONFIG")[0]["patch"]["value"]["typed_config"]["config"][
        "allow_on_headers_stop_iteration"] is True


def test_no_wasmplugin_and_every_wasm_config_waits_for_the_body():
    # WasmPlugin cannot set allow_on_headers_stop_iteration, and without it requests hang.
    kinds = {d["kind"] for n in manifests() for d in load(n) if "kind" in d}
    assert "WasmPlugin" not in kinds
    configs = [p["patch"]["value"] for n in manifests() for d in load(n) if d.get("kind") == "EnvoyFilter"
               for p in d["spec"]["configPatches"] if p["applyTo"] == "EXTENSION_CONFIG"]
    assert len(configs) == 3
    for c in configs:
        cfg = c["typed_config"]["config"]
        assert c["typed_config"]["@type"] == WASM_TYPE
        assert cfg["allow_on_headers_stop_iteration"] is True
        remote = cfg["vm_config"]["code"]["remote"]
        assert remote["http_uri"]["uri"].endswith(f"/llm-gateway-{VERSION}.wasm"), "manifest version ≠ crate version"
        assert remote["sha256"]


# --- Envoy configuration, assembled as istiod would ----------------------------------------

def patches(doc, apply_to):
    return [p for p in doc["spec"]["configPatches"] if p["applyTo"] == apply_to]


def upstream_tls(sni, sans, ca):
    return {"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        "sni": sni, "common_tls_context": {"validation_context": {
            "trusted_ca": {"filename": str(ca)},
            "match_typed_subject_alt_names": [{"san_type": "DNS", "matcher": {"exact": s}} for s in sans]}}}}


def static_cluster(name, port, **extra):
    return dict({"name": name, "type": "STATIC", "connect_timeout": "2s",
                 "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [
                     {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}}}]}]}},
                **extra)


def hcm(stat_prefix, routes, filters, vhost="v", domains=("*",)):
    return {"name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3"
                 ".HttpConnectionManager",
        "stat_prefix": stat_prefix,
        "route_config": {"name": stat_prefix, "virtual_hosts": [
            {"name": vhost, "domains": list(domains), "routes": routes}]},
        "http_filters": filters + [{"name": "envoy.filters.http.router", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}


def from_files(value, ecds_dir):
    """Istio serves config_discovery over ADS; without a control plane, from a file per name."""
    value = copy.deepcopy(value)
    source = value["config_discovery"]["config_source"]
    assert "ads" in source
    del source["ads"]
    source["path_config_source"] = {"path": str(ecds_dir / f"{value['name']}.yaml")}
    return value


def serve_by_ecds(value, ecds_dir, module_port, digest):
    """Write an EXTENSION_CONFIG patch's value as the ECDS resource Envoy reads for its name,
    the module's URL moved to the loopback server (same file name) and its real sha256."""
    value = copy.deepcopy(value)
    remote = value["typed_config"]["config"]["vm_config"]["code"]["remote"]
    name = remote["http_uri"]["uri"].rsplit("/", 1)[1]
    remote["http_uri"].update(uri=f"http://127.0.0.1:{module_port}/{name}", cluster="module_server")
    remote["sha256"] = digest
    # Envoy's first fetch runs before its clusters are up: retry soon, not after seconds.
    remote["retry_policy"] = {"retry_back_off": {"base_interval": "0.2s", "max_interval": "1s"}, "num_retries": 20}
    resource = dict(value, **{"@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig"})
    (ecds_dir / f"{value['name']}.yaml").write_text(yaml.safe_dump({"version_info": "1", "resources": [resource]}))


def start_envoy(doc, name, env, concurrency, ready):
    """Envoy on `doc` (its first listener and admin on fresh ports) with `env` added to its
    environment, once every text in `ready` is in its log (the extension configs arrived)."""
    envoy = Envoy.__new__(Envoy)
    envoy.port, envoy.admin_port = free_port(), free_port()
    doc["admin"]["address"]["socket_address"]["port_value"] = envoy.admin_port
    doc["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] = envoy.port
    saved = dict(KEYS)
    KEYS.update(env)  # Envoy._spawn puts KEYS into Envoy's environment
    try:
        envoy._start(doc, concurrency, name)
    finally:
        KEYS.clear()
        KEYS.update(saved)
    envoy.env = env
    for _ in range(300):
        if all(text in envoy.log() for text in ready):
            break
        threading.Event().wait(0.1)
    return envoy


def virtual_service_routes(vs):
    routes = []
    for r in vs["spec"]["http"]:
        d = r["directResponse"]
        routes.append({"name": r["name"], "match": {"prefix": "/"},
                       "direct_response": {"status": d["status"], "body": {"inline_string": d["body"]["string"]}}})
    return routes


def make_cert(d, name="providers", san="DNS:api.openai.com,DNS:api.anthropic.com"):
    """A self-signed certificate (its own CA) and its key."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", f"/CN={name}.test", "-keyout", str(d / f"{name}.key"),
                    "-out", str(d / f"{name}.pem"), "-addext", f"subjectAltName={san}"],
                   check=True, capture_output=True)
    return d / f"{name}.pem", d / f"{name}.key"


def provider_clusters(front_port, ca):
    """Istio's outbound clusters from each ServiceEntry + DestinationRule (DNS → the front)."""
    clusters = []
    docs = load("providers.yaml")
    rules = {d["spec"]["host"]: d for d in docs if d["kind"] == "DestinationRule"}
    for se in (d for d in docs if d["kind"] == "ServiceEntry"):
        for host in se["spec"]["hosts"]:
            for port in se["spec"]["ports"]:
                [pls] = [s for s in rules[host]["spec"]["trafficPolicy"]["portLevelSettings"]
                         if s["port"]["number"] == port["number"]]
                tls = pls["tls"]
                assert tls["mode"] == "SIMPLE"
                clusters.append(static_cluster(f"outbound|{port['number']}||{host}", front_port,
                                               transport_socket=upstream_tls(tls["sni"], tls["subjectAltNames"], ca)))
    return clusters


def provider_front(port, cert, key, mocks):
    """Stands in for the providers' TLS endpoints: terminates TLS, chooses the mock by SNI."""
    chains = []
    for sni, mock in (("api.openai.com", "openai_mock"), ("api.anthropic.com", "anthropic_mock")):
        chains.append({
            "filter_chain_match": {"server_names": [sni]},
            "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                "common_tls_context": {"tls_certificates": [{"certificate_chain": {"filename": str(cert)},
                                                             "private_key": {"filename": str(key)}}]}}},
            "filters": [hcm(f"front_{mock}", [{"match": {"prefix": "/"}, "route": {"cluster": mock, "timeout": "60s"}}],
                            [])]})
    return {"name": "providers_front", "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
            "listener_filters": [{"name": "envoy.filters.listener.tls_inspector", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"}}],
            "filter_chains": chains}


def stats_config():
    cm = next(d for d in load("gateway-secret-and-stats.yaml") if d["kind"] == "ConfigMap")
    override = yaml.safe_load(cm["data"]["custom_bootstrap.yaml"])
    patch = load("ingressgateway-patch.yaml")[0]["spec"]["template"]
    matcher = yaml.safe_load(patch["metadata"]["annotations"]["proxy.istio.io/config"])["proxyStatsMatcher"]
    # Istio's own inclusions without its "wasm" prefix: the manifest's entries must carry the
    # filter's metrics on their own.
    patterns = [{"prefix": p} for p in ("cluster_manager", "listener_manager", "server")]
    patterns += [{"prefix": p} for p in matcher.get("inclusionPrefixes", [])]
    patterns += [{"suffix": s} for s in matcher.get("inclusionSuffixes", [])]
    patterns += [{"safe_regex": {"regex": r}} for r in matcher.get("inclusionRegexps", [])]
    return dict(override["stats_config"], use_all_default_tags=False,
                stats_matcher={"inclusion_list": {"patterns": patterns}})


def gateway_env():
    secret = next(d for d in load("gateway-secret-and-stats.yaml") if d["kind"] == "Secret")
    patch = load("ingressgateway-patch.yaml")[0]["spec"]["template"]["spec"]["containers"][0]
    assert patch["envFrom"] == [{"secretRef": {"name": secret["metadata"]["name"]}}]
    return {k: f"test-{k.lower()}" for k in secret["stringData"]}


class _Quiet(httpserver.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def module_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("release")
    (d / f"llm-gateway-{VERSION}.wasm").write_bytes(WASM.read_bytes())
    port = free_port()
    server = httpserver.ThreadingHTTPServer(("127.0.0.1", port), lambda *a, **kw: _Quiet(*a, directory=str(d), **kw))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield port, hashlib.sha256(WASM.read_bytes()).hexdigest()
    server.shutdown()


def assemble_gateway(tmp, module_port, digest, front_port, ca):
    """The ingress gateway's Envoy configuration from the manifests."""
    [ef] = load("gateway-envoyfilter.yaml")
    gw, vs = load("gateway.yaml")
    ecds = tmp / "ecds"
    ecds.mkdir()
    for p in patches(ef, "EXTENSION_CONFIG"):
        assert p["patch"]["operation"] == "ADD"
        serve_by_ecds(p["patch"]["value"], ecds, module_port, digest)

    # Listener of the Gateway's server port with the HTTP_FILTER patch before the router.
    server = gw["spec"]["servers"][0]
    # Each INSERT_BEFORE the router lands after the ones before it: the decompressor, then the filter.
    http_filters = patches(ef, "HTTP_FILTER")
    for hf in http_filters:
        assert hf["match"]["context"] == "GATEWAY" and hf["patch"]["operation"] == "INSERT_BEFORE"
        assert hf["match"]["listener"]["filterChain"]["filter"]["subFilter"]["name"] == "envoy.filters.http.router"
    assert [hf["patch"]["value"]["name"] for hf in http_filters] == ["envoy.filters.http.decompressor", "llm-gateway"]
    chain = [from_files(hf["patch"]["value"], ecds) if "config_discovery" in hf["patch"]["value"]
             else hf["patch"]["value"] for hf in http_filters]
    vhost = f"{server['hosts'][0]}:{server['port']['number']}"
    routes = virtual_service_routes(vs)
    for p in patches(ef, "HTTP_ROUTE"):
        assert p["match"]["routeConfiguration"]["vhost"]["name"] == vhost
        assert p["patch"]["operation"] == "INSERT_FIRST"
        routes.insert(0, p["patch"]["value"])
    conn = hcm(f"outbound_0.0.0.0_{server['port']['number']}", routes, chain,
               vhost=vhost, domains=(HOST, f"{HOST}:*"))
    for p in patches(ef, "NETWORK_FILTER"):
        assert p["patch"]["operation"] == "MERGE"
        merged = dict(p["patch"]["value"]["typed_config"])
        assert merged.pop("@type") == conn["typed_config"]["@type"]
        conn["typed_config"].update(merged)
    for p in patches(ef, "VIRTUAL_HOST"):
        assert p["match"]["routeConfiguration"]["portNumber"] == server["port"]["number"]
        assert p["patch"]["operation"] == "ADD"
        conn["typed_config"]["route_config"]["virtual_hosts"].append(p["patch"]["value"])
    conn["typed_config"]["access_log"] = [{"name": "envoy.access_loggers.stdout", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
        "log_format": {"text_format_source": {"inline_string":
                       "%REQ(:AUTHORITY)% %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% "
                       "%UPSTREAM_CLUSTER% %ROUTE_NAME%\n"}}}}]
    listener = {"name": "0.0.0.0_8080", "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
                "filter_chains": [{"filters": [conn]}]}

    clusters = provider_clusters(front_port, ca)
    for p in patches(ef, "CLUSTER"):
        assert p["patch"]["operation"] == "ADD"
        c = copy.deepcopy(p["patch"]["value"])
        opts = c["typed_extension_protocol_options"]["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
        opts["http_filters"] = [from_files(f, ecds) if "config_discovery" in f else f for f in opts["http_filters"]]
        for m in c["transport_socket_matches"]:
            m["transport_socket"]["typed_config"]["common_tls_context"]["validation_context"]["trusted_ca"] = {
                "filename": str(ca)}
        for prio in c["load_assignment"]["endpoints"]:
            for ep in prio["lb_endpoints"]:
                ep["endpoint"]["address"]["socket_address"].update(address="127.0.0.1", port_value=front_port)
        clusters.append(c)
    clusters.append(static_cluster("module_server", module_port))
    return {"node": {"id": "router~127.0.0.1~istio-ingressgateway.istio-system~istio-system.svc.cluster.local",
                     "cluster": "istio-ingressgateway.istio-system"},
            "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
            "stats_config": stats_config(),
            "static_resources": {"listeners": [listener], "clusters": clusters}}


@pytest.fixture(scope="module")
def istio_gateway(mocks, module_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("istio-gateway")
    cert, key = make_cert(tmp)
    front_port = free_port()
    doc = assemble_gateway(tmp, *module_server, front_port, cert)
    doc["static_resources"]["listeners"].append(provider_front(front_port, cert, key, mocks))
    doc["static_resources"]["clusters"] += [static_cluster(n, mocks[n].port) for n in ("openai_mock", "anthropic_mock")]
    envoy = start_envoy(doc, "istio-gateway", gateway_env(), 2,
                        ["llm-gateway: llm-gateway: configured 3 providers",
                         "llm-upstream: llm-gateway: configured 2 providers"])
    yield envoy
    envoy.stop()


def ask(envoy, body, key=EXAMPLE_KEY, host=HOST):
    headers = {"content-type": "application/json", "host": host}
    if key:
        headers["authorization"] = f"Bearer {key}"
    return http("POST", envoy.base + "/v1/chat/completions", body, headers, timeout=30)


def test_chat_through_the_assembled_ingress_reaches_the_provider_over_tls(istio_gateway, oa):
    chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    status, headers, body = ask(istio_gateway, chat)
    assert status == 200, body
    assert json.loads(body)["choices"][0]["message"]["content"] == "mock openai says: hi"
    assert headers["x-llm-provider"] == "openai"
    [rec] = oa.requests()
    # The key from the Secret, via the pod environment; not the client's virtual key.
    assert rec["headers"]["authorization"] == f"Bearer {istio_gateway.env['OPENAI_API_KEY']}"
    assert "x-llm-cluster" not in rec["headers"]


def test_stream_through_the_virtual_model_cluster_and_its_per_attempt_filter(istio_gateway, oa, an):
    # "smart" → llm_vm_smart (priority 0: openai over TLS, SNI api.openai.com), translated
    # by the per-attempt filter delivered by ECDS.
    status, headers, body = ask(istio_gateway, {"model": "smart", "stream": True,
                                                "messages": [{"role": "user", "content": "yo"}]})
    assert status == 200, body
    text = body.decode()
    assert text.rstrip().endswith("data: [DONE]"), text
    assert "mock openai says: yo" in "".join(
        (json.loads(line[6:])["choices"] or [{}])[0].get("delta", {}).get("content") or ""
        for line in text.splitlines() if line.startswith("data: {"))
    [rec] = oa.requests()
    assert json.loads(rec["body"])["model"] == "gpt-4o"
    assert rec["headers"]["authorization"] == f"Bearer {istio_gateway.env['OPENAI_API_KEY']}"
    assert an.requests() == []


def test_failover_to_anthropic_by_the_retry_route(istio_gateway, oa, an):
    oa.faults([{"status": 503}])
    status, headers, body = ask(istio_gateway, {"model": "smart", "messages": [{"role": "user", "content": "hi"}]})
    assert status == 200, body
    assert headers["x-llm-provider"] == "anthropic"
    [rec] = an.requests()
    assert json.loads(rec["body"])["model"] == "claude-sonnet-4-5"
    assert rec["headers"]["x-api-key"] == istio_gateway.env["ANTHROPIC_API_KEY"]


def test_gzip_bodies_are_inflated_before_the_filter(istio_gateway, oa):
    chat = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "zipped"}]}).encode()
    headers = {"content-type": "application/json", "content-encoding": "gzip", "host": HOST,
               "authorization": f"Bearer {EXAMPLE_KEY}"}
    status, _, body = http("POST", istio_gateway.base + "/v1/chat/completions", gzip.compress(chat), headers,
                           timeout=30)
    assert status == 200, body
    assert json.loads(body)["choices"][0]["message"]["content"] == "mock openai says: zipped"


def test_the_ingress_refuses_unknown_keys_and_other_paths(istio_gateway, oa):
    status, _, body = ask(istio_gateway, {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
                          key="sk-wrong")
    assert status == 401, body
    status, _, body = http("GET", istio_gateway.base + "/admin", headers={"host": HOST})
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    assert oa.requests() == []


def test_metrics_survive_the_stats_matcher_with_their_labels(istio_gateway, oa):
    status, _, body = ask(istio_gateway, {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
    assert status == 200, body
    counters = istio_gateway.stats()
    assert any(name == "llmgw_requests_total" and ("gen_ai_request_model", "gpt-4o-mini") in labels
               and ("gen_ai_provider_name", "openai") in labels for name, labels in counters), sorted(counters)[:20]
    # The matcher is in force: stats outside its inclusions are not kept.
    text = http("GET", f"http://127.0.0.1:{istio_gateway.admin_port}/stats")[2].decode()
    assert "http.outbound_0.0.0.0_80.downstream_rq_total" not in text


def test_the_extension_configs_came_from_ecds_with_the_remote_module(istio_gateway):
    dump = json.loads(http("GET", f"http://127.0.0.1:{istio_gateway.admin_port}/config_dump")[2])
    ecds = [c for c in dump["configs"] if c["@type"].endswith("EcdsConfigDump")]
    names = {c["ecds_filter"]["name"] for e in ecds for c in e.get("ecds_filters", [])}
    assert {"llm-gateway", "llm-upstream"} <= names


# --- the sidecar variant ------------------------------------------------------------------

def mtls_chat(envoy, cert, key, ca, model):
    """A mesh caller: mTLS with its workload certificate (SPIFFE URI SAN), as its sidecar would."""
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.check_hostname = False
    ctx.load_cert_chain(str(cert), str(key))
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode()
    req = urllib.request.Request(f"https://127.0.0.1:{envoy.port}/v1/chat/completions", method="POST", data=body,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_sidecar_variant_takes_the_mesh_identity_as_the_key(tmp_path, module_server, mocks, oa, an):
    """The sidecar's EnvoyFilter on an inbound listener that requires mTLS (PeerAuthentication
    STRICT), its extension config by ECDS with the remote module, the providers' clusters from
    providers.yaml: a caller's SPIFFE identity is its key."""
    docs = load("sidecar.yaml")
    [ef] = [d for d in docs if d["kind"] == "EnvoyFilter"]
    [peer] = [d for d in docs if d["kind"] == "PeerAuthentication"]
    assert peer["spec"]["mtls"]["mode"] == "STRICT"
    [hf] = patches(ef, "HTTP_FILTER")
    assert hf["match"]["context"] == "SIDECAR_INBOUND"
    [ext] = patches(ef, "EXTENSION_CONFIG")
    value = ext["patch"]["value"]
    assert hf["patch"]["value"]["name"] == value["name"]
    keys = json.loads(value["typed_config"]["config"]["configuration"]["value"])["access"]["keys"]
    checkout = next(k for k in keys if k["name"] == "checkout")
    port, digest = module_server
    ecds = tmp_path / "ecds"
    ecds.mkdir()
    serve_by_ecds(value, ecds, port, digest)
    server_cert, server_key = make_cert(tmp_path)
    callers = {name: make_cert(tmp_path, name, f"URI:{principal}") for name, principal in
               (("checkout", checkout["principal"]), ("stranger", "spiffe://cluster.local/ns/other/sa/x"))}
    trusted = tmp_path / "mesh-ca.pem"
    trusted.write_text("".join(cert.read_text() for cert, _ in callers.values()))
    [route] = patches(ef, "HTTP_ROUTE")
    conn = hcm("inbound_0.0.0.0_8080", [route["patch"]["value"]], [from_files(hf["patch"]["value"], ecds)])
    loopback = {"socket_address": {"address": "127.0.0.1", "port_value": 0}}
    front_port = free_port()
    inbound = {"name": "virtualInbound", "address": copy.deepcopy(loopback), "filter_chains": [{
        "filters": [conn],
        "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
            "require_client_certificate": True,
            "common_tls_context": {
                "tls_certificates": [{"certificate_chain": {"filename": str(server_cert)},
                                      "private_key": {"filename": str(server_key)}}],
                "validation_context": {"trusted_ca": {"filename": str(trusted)}}}}}}]}
    doc = {"node": {"id": "sidecar~127.0.0.1~llm-gateway.llm~llm.svc.cluster.local", "cluster": "llm-gateway.llm"},
           "admin": {"address": loopback},
           "static_resources": {
               "listeners": [inbound, provider_front(front_port, server_cert, server_key, mocks)],
               "clusters": provider_clusters(front_port, server_cert) + [static_cluster("module_server", port)]
               + [static_cluster(n, mocks[n].port) for n in ("openai_mock", "anthropic_mock")]}}
    env_keys = value["typed_config"]["config"]["vm_config"]["environment_variables"]["host_env_keys"]
    envoy = start_envoy(doc, "istio-sidecar", {k: f"test-{k.lower()}" for k in env_keys}, 1,
                        ["configured 2 providers, 2 models"])
    try:
        assert "configured 2 providers, 2 models" in envoy.log(), envoy.log()[-3000:]
        status, headers, body = mtls_chat(envoy, *callers["checkout"], server_cert, "smart")
        assert status == 200, body
        provider = headers["x-llm-provider"]
        [rec] = (oa if provider == "openai" else an).requests()
        assert rec["headers"].get("authorization", rec["headers"].get("x-api-key", "")).endswith(
            f"test-{provider}_api_key")
        # checkout may use "smart" only; a principal that is not listed is nobody.
        status, _, body = mtls_chat(envoy, *callers["checkout"], server_cert, "gpt-4o-mini")
        assert status == 403 and json.loads(body)["error"]["code"] == "model_not_allowed", body
        status, _, body = mtls_chat(envoy, *callers["stranger"], server_cert, "smart")
        assert status == 401, body
        assert len(oa.requests()) + len(an.requests()) == 1
    finally:
        envoy.stop()


# --- envoy-config/real-providers.yaml ------------------------------------------------------

REAL_ENV = {"OPENAI_API_KEY": "a", "ANTHROPIC_API_KEY": "b", "GEMINI_API_KEY": "c", "AWS_ACCESS_KEY_ID": "d",
            "AWS_SECRET_ACCESS_KEY": "e", "AWS_SESSION_TOKEN": "f"}


def real_providers():
    return yaml.safe_load((ROOT / "envoy-config" / "real-providers.yaml").read_text())


def validate_real(doc):
    LOGS.mkdir(parents=True, exist_ok=True)
    path = LOGS / "real-providers.yaml"
    path.write_text(yaml.safe_dump(doc).replace("target/wasm32-wasip1/release/llm_gateway.wasm", str(WASM)))
    return subprocess.run([str(ENVOY), "--mode", "validate", "-c", str(path), "--disable-hot-restart"],
                          capture_output=True, text=True, env=dict(os.environ, **REAL_ENV), timeout=120)


def wasm_filters(doc):
    listener = doc["static_resources"]["listeners"][0]
    hcm_cfg = listener["filter_chains"][0]["filters"][0]["typed_config"]
    out = [f["typed_config"]["config"] for f in hcm_cfg["http_filters"] if f["name"] == "llm-gateway"]
    for c in doc["static_resources"]["clusters"]:
        opts = c.get("typed_extension_protocol_options", {}).get(
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions", {})
        out += [f["typed_config"]["config"] for f in opts.get("http_filters", []) if "typed_config" in f
                and f["typed_config"]["@type"] == WASM_TYPE]
    return hcm_cfg, out


def test_real_providers_config_validates():
    r = validate_real(real_providers())
    assert r.returncode == 0, r.stderr[-3000:]


def test_real_providers_config_is_safe_by_default():
    doc = real_providers()
    assert doc["static_resources"]["listeners"][0]["address"]["socket_address"]["address"] == "127.0.0.1"
    hcm_cfg, filters = wasm_filters(doc)
    assert len(filters) == 2
    for f in filters:
        assert "AWS_SESSION_TOKEN" in f["vm_config"]["environment_variables"]["host_env_keys"]
    gateway = json.loads(filters[0]["configuration"]["value"])
    assert gateway["access"]["keys"] and all(len(k["sha256"]) == 64 for k in gateway["access"]["keys"])
    for f in filters:
        for p in json.loads(f["configuration"]["value"])["providers"]:
            if p["kind"] == "bedrock":
                assert p["session_token_env"] == "AWS_SESSION_TOKEN"
    demo = yaml.safe_load((ROOT / "envoy-config" / "demo.yaml").read_text())
    assert doc["stats_config"]["stats_tags"] == demo["stats_config"]["stats_tags"]
    assert hcm_cfg["access_log"][0]["typed_config"]["log_format"] == \
        demo["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]["access_log"][0][
            "typed_config"]["log_format"]


def test_real_providers_config_with_a_malformed_key_hash_is_refused():
    # The validation above is not vacuous: a malformed key hash makes Envoy refuse the file.
    doc = real_providers()
    _, filters = wasm_filters(doc)
    cfg = json.loads(filters[0]["configuration"]["value"])
    cfg["access"]["keys"][0]["sha256"] = "not-hex"
    filters[0]["configuration"]["value"] = json.dumps(cfg)
    r = validate_real(doc)
    assert r.returncode != 0
    assert "access.keys[0]" in r.stderr, r.stderr[-2000:]
