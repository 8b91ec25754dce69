"""Rotating provider credentials through real Envoy: tokens the filter fetches from
identity endpoints (GCP metadata, Azure IMDS, OAuth2 client credentials) and keys Envoy
injects from a Secret file it watches. One mock process serves the identity endpoints
and the providers; with `enforce` on it answers 401 to any credential it did not issue
or that expired, so a request that succeeds carried a current credential."""

import datetime
import hashlib
import json
import os
import time
from unittest import mock as patch

import pytest
import yaml
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import LOGS, Envoy, Mock, http

TTL_MS = 3000
CLIENT_SECRET = "mock-client-secret"


def plugin_config():
    meta = {"cluster": "identity"}
    return {
        "providers": [
            {"name": "vx", "kind": "vertex", "cluster": "cred", "project": "p", "location": "us-central1",
             "credential": {"source": "gcp_metadata", **meta}},
            {"name": "azi", "kind": "azure", "cluster": "cred", "host": "r.openai.azure.com",
             "credential": {"source": "azure_imds", **meta}},
            {"name": "azo", "kind": "azure", "cluster": "cred", "host": "r.openai.azure.com", "auth": "bearer",
             "credential": {"source": "oauth2_client_credentials", "cluster": "identity",
                            "host": "login.microsoftonline.com", "token_path": "/tenant/oauth2/v2.0/token",
                            "client_id": "gateway-app", "client_secret_env": "CRED_CLIENT_SECRET",
                            "scope": "https://cognitiveservices.azure.com/.default"}},
            {"name": "anf", "kind": "anthropic", "cluster": "cred_file", "credential": {"source": "file"}},
            {"name": "oaf", "kind": "openai", "cluster": "cred_file_bearer", "credential": {"source": "file"}},
            {"name": "br", "kind": "bedrock", "cluster": "cred_aws", "region": "us-east-1",
             "credential": {"source": "aws"}},
        ],
        "models": [
            {"name": "vx", "targets": [{"provider": "vx", "model": "gemini-2.0-flash"}]},
            {"name": "azi", "targets": [{"provider": "azi", "model": "gpt-4o"}]},
            {"name": "azo", "targets": [{"provider": "azo", "model": "gpt-4o"}]},
            {"name": "anf", "targets": [{"provider": "anf", "model": "claude-x"}]},
            {"name": "oaf", "targets": [{"provider": "oaf", "model": "gpt-4o"}]},
            {"name": "br", "targets": [{"provider": "br", "model": "anthropic.claude-3-haiku"}]},
        ],
    }


def write_secret(directory, value):
    """A Kubernetes-style update: the new file appears by a rename (a move Envoy watches)."""
    tmp = directory / ".key.tmp"
    tmp.write_text(value)
    os.replace(tmp, directory / "key")


def upstream_filters(*filters):
    codec = {"name": "envoy.filters.http.upstream_codec", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec"}}
    return {"typed_extension_protocol_options": {
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "explicit_http_config": {"http_protocol_options": {}},
            "http_filters": [*filters, codec]}}}


def aws_signing():
    """Envoy's SigV4 signer as the Bedrock cluster's upstream filter, with its default
    credential chain (here: container credentials from the mock)."""
    return upstream_filters({"name": "envoy.filters.http.aws_request_signing", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning",
        "service_name": "bedrock", "region": "us-east-1", "use_unsigned_payload": False}})


def injector(sds_path, directory, header, prefix):
    generic = {"@type": "type.googleapis.com/envoy.extensions.http.injected_credentials.generic.v3.Generic",
               "credential": {"name": "provider-key", "sds_config": {
                   "path_config_source": {"path": str(sds_path),
                                          "watched_directory": {"path": str(directory)}}}},
               "header": header}
    if prefix:
        generic["header_value_prefix"] = prefix
    return upstream_filters({"name": "envoy.filters.http.credential_injector", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.credential_injector.v3.CredentialInjector",
        "overwrite": True,
        "credential": {"name": "envoy.http.injected_credentials.generic", "typed_config": generic}}})


@pytest.fixture(scope="module")
def setup():
    mock = Mock("cred")
    secrets = LOGS / "cred-secret"
    secrets.mkdir(parents=True, exist_ok=True)
    write_secret(secrets, "file-key-1")
    sds = secrets / "sds.yaml"
    sds.write_text(yaml.safe_dump({"resources": [{
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
        "name": "provider-key",
        "generic_secret": {"secret": {"filename": str(secrets / "key")}}}]}))
    configure(mock, enforce=True, keys=["file-key-1"])

    def edit(doc):
        # File-based SDS, like any SDS, needs the node's id and cluster.
        doc["node"] = {"id": "llm-gateway", "cluster": "llm-gateway"}
        filt = doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
        for f in filt["typed_config"]["http_filters"]:
            if f["name"] == "llm-gateway":
                env = f["typed_config"]["config"]["vm_config"]["environment_variables"]
                env["host_env_keys"].append("CRED_CLIENT_SECRET")
        for c in doc["static_resources"]["clusters"]:
            if c["name"] == "cred_file":
                c.update(injector(sds, secrets, "x-api-key", None))
            if c["name"] == "cred_file_bearer":
                c.update(injector(sds, secrets, "Authorization", "Bearer "))
            if c["name"] == "cred_aws":
                c.update(aws_signing())

    # Envoy's AWS chain: container credentials (ECS, EKS Pod Identity) from the mock; no
    # instance metadata (it would be tried at 169.254.169.254).
    env = {"CRED_CLIENT_SECRET": CLIENT_SECRET,
           "AWS_CONTAINER_CREDENTIALS_FULL_URI": mock.base + "/v1/credentials",
           "AWS_EC2_METADATA_DISABLED": "true"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    clusters = {"cred": mock, "identity": mock, "cred_file": mock, "cred_file_bearer": mock, "cred_aws": mock}
    try:
        envoy = Envoy(clusters, plugin_config=plugin_config(), name="credentials", edit=edit)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield envoy, mock, secrets
    envoy.stop()
    mock.stop()


def configure(mock, **settings):
    settings.setdefault("ttl_ms", TTL_MS)
    status, _, body = http("POST", mock.base + "/__mock/identity", settings)
    assert status == 200, body


def issued(mock):
    return json.loads(http("GET", mock.base + "/__mock/identity")[2])["issued"]


def chat(envoy, model):
    return envoy.chat({"model": model, "messages": [{"role": "user", "content": "hi"}]})


def wait_for(pred, seconds, step=0.05):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(step)
    return pred()


def presented(rec):
    h = rec["headers"]
    auth = h.get("authorization", "")
    return auth.removeprefix("Bearer ") or h.get("x-api-key") or h.get("api-key")


def counter(envoy, name, provider):
    return sum(v for (n, ls), v in envoy.stats().items()
               if n == name and ("llm_provider", provider) in ls)


def test_fetched_tokens_rotate_with_no_failed_request(setup):
    envoy, mock, _ = setup
    configure(mock, enforce=True, keys=["file-key-1"])
    # The first tokens arrive within a tick of the configuration.
    assert wait_for(lambda: all(chat(envoy, m)[0] == 200 for m in ("vx", "azi", "azo")), 10)
    mock.reset()
    statuses = []
    # Four lifetimes, bounded in count.
    deadline = time.time() + 4 * TTL_MS / 1000
    while time.time() < deadline and len(statuses) < 300:
        for model in ("vx", "azi", "azo"):
            statuses.append(chat(envoy, model)[0])
        time.sleep(0.05)
    assert statuses and set(statuses) == {200}, statuses
    seen = {}
    for rec in mock.requests():
        assert rec["status"] == 200, rec
        seen.setdefault(rec["path"].split("?")[0], set()).add(presented(rec))
    by_source = {}
    for t in issued(mock):
        by_source.setdefault(t["source"], set()).add(t["token"])
    for path, source in (("/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent", "gcp"),
                         ("/openai/deployments/gpt-4o/chat/completions", None)):
        assert path in seen, seen.keys()
    vertex_tokens = seen["/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent"]
    # The provider saw several rotations, each token one the metadata server issued.
    assert len(vertex_tokens) >= 3 and vertex_tokens <= by_source["gcp"], vertex_tokens
    azure_tokens = seen["/openai/deployments/gpt-4o/chat/completions"]
    assert {t.split("-token-")[0] for t in azure_tokens} == {"azure", "oauth2"}, azure_tokens
    assert len(azure_tokens & by_source["oauth2"]) >= 3 and len(azure_tokens & by_source["azure"]) >= 3
    assert counter(envoy, "llmgw_credential_refreshes_total", "vx") >= 3
    # No credential in the log or metrics.
    text = envoy.log() + http("GET", f"http://127.0.0.1:{envoy.admin_port}/stats/prometheus")[2].decode()
    for t in by_source["gcp"] | by_source["azure"] | by_source["oauth2"]:
        assert t not in text
    assert CLIENT_SECRET not in text


def botocore_check(rec, issued_by_token):
    """Recompute the signature Envoy wrote with botocore, over the headers it signed, with
    the key pair issued together with the session token the request carries."""
    h = rec["headers"]
    cred = issued_by_token[h["x-amz-security-token"]]
    auth = h["authorization"]
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"host", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"} <= set(signed), auth
    assert auth.startswith(f"AWS4-HMAC-SHA256 Credential={cred['access_key_id']}/"), auth
    assert h["x-amz-content-sha256"] == hashlib.sha256(rec["body"].encode()).hexdigest()
    headers = {name: h[name] for name in signed if name not in ("host", "x-amz-date", "x-amz-security-token")}
    req = AWSRequest(method="POST", url=f"https://{h['host']}{rec['path']}", data=rec["body"].encode(),
                     headers=headers)
    creds = Credentials(cred["access_key_id"], cred["secret_access_key"], cred["token"])
    when = datetime.datetime.strptime(h["x-amz-date"], "%Y%m%dT%H%M%SZ")
    # Envoy signs user-agent too, which botocore leaves out by default.
    with patch.patch("botocore.auth.get_current_datetime", return_value=when), \
            patch.patch("botocore.auth.SIGNED_HEADERS_BLACKLIST", []):
        SigV4Auth(creds, "bedrock", "us-east-1").add_auth(req)
    assert req.headers["Authorization"] == auth


def test_bedrock_signed_by_envoy_with_rotating_session_credentials(setup):
    envoy, mock, _ = setup
    configure(mock, enforce=True, keys=["file-key-1"])
    assert wait_for(lambda: chat(envoy, "br")[0] == 200, 10)
    mock.reset()
    statuses = []
    deadline = time.time() + 3 * TTL_MS / 1000
    while time.time() < deadline and len(statuses) < 100:
        statuses.append(chat(envoy, "br")[0])
        time.sleep(0.1)
    assert statuses and set(statuses) == {200}, statuses
    by_token = {t["token"]: t for t in issued(mock) if t["source"] == "aws"}
    recs = mock.requests()
    for rec in recs:
        assert rec["path"] == "/model/anthropic.claude-3-haiku/converse", rec["path"]
        botocore_check(rec, by_token)
    tokens = {r["headers"]["x-amz-security-token"] for r in recs}
    assert len(tokens) >= 2, tokens


def test_identity_down_keeps_the_token_until_expiry_then_503_then_recovers(setup):
    envoy, mock, _ = setup
    # Longer-lived tokens (in every worker, once each refreshed): a wider window between
    # the first failed refresh and the expiry.
    configure(mock, enforce=True, keys=["file-key-1"], ttl_ms=5000)
    time.sleep(TTL_MS / 1000)
    assert chat(envoy, "vx")[0] == 200
    failures = counter(envoy, "llmgw_credential_refresh_failures_total", "vx")
    configure(mock, enforce=True, down=True, keys=["file-key-1"])
    mock.reset()
    # A refresh fails while the current token is still valid: requests keep succeeding.
    assert wait_for(lambda: counter(envoy, "llmgw_credential_refresh_failures_total", "vx") > failures, 7)
    assert chat(envoy, "vx")[0] == 200
    # Then the token expires: an OpenAI-shaped 503 naming the provider, not the provider's 401.
    answer = wait_for(lambda: (lambda r: r if r[0] != 200 else None)(chat(envoy, "vx")), 5)
    assert answer, "still 200 after the token's lifetime"
    status, headers, body = answer
    assert status == 503, body
    err = json.loads(body)["error"]
    assert "provider vx" in err["message"] and err["code"] == "credential_unavailable", err
    assert all(r["status"] == 200 for r in mock.requests()), "an expired credential reached the provider"
    # Back up: the retries with backoff pick up a new token.
    configure(mock, enforce=True, keys=["file-key-1"])
    assert wait_for(lambda: chat(envoy, "vx")[0] == 200, 10)


def test_a_secret_file_rotated_on_disk_is_used_without_restart(setup):
    envoy, mock, secrets = setup
    configure(mock, enforce=True, keys=["file-key-1"])
    mock.reset()
    assert chat(envoy, "anf")[0] == 200
    assert chat(envoy, "oaf")[0] == 200
    recs = mock.requests()
    assert recs[0]["headers"]["x-api-key"] == "file-key-1"
    assert recs[1]["headers"]["authorization"] == "Bearer file-key-1"
    # Rotate: the provider accepts only the new key from now on.
    configure(mock, enforce=True, keys=["file-key-2"])
    write_secret(secrets, "file-key-2")
    # Kubernetes also swaps the directory's ..data link; any move in the directory makes
    # Envoy read the SDS file again.
    assert wait_for(lambda: chat(envoy, "anf")[0] == 200, 10, step=0.2)
    assert wait_for(lambda: chat(envoy, "oaf")[0] == 200, 10, step=0.2)
    recs = mock.requests()
    assert recs[-2]["headers"]["x-api-key"] == "file-key-2"
    assert recs[-1]["headers"]["authorization"] == "Bearer file-key-2"
    assert "file-key" not in envoy.log()

