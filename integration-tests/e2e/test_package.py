"""The release artifacts of `./build.sh package` (quick form): named and checksummed, rebuilt
bit for bit from another checkout, an OCI image in Istio's Wasm image format pushed to a real
registry (Debian's docker-registry, loopback) by buildah and pulled back by skopeo, whose
module then serves requests in Envoy; and Envoy fetching the module remotely by sha256, as
Istio does for http(s) URLs."""

import gzip
import hashlib
import http.server as httpserver
import json
import shutil
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest

from harness import ROOT, Envoy, free_port, http

VERSION = next(line.split('"')[1] for line in (ROOT / "Cargo.toml").read_text().splitlines()
               if line.startswith("version = "))
WASM_NAME = f"llm-gateway-{VERSION}.wasm"


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    d = tmp_path_factory.mktemp("registry")
    port = free_port()
    (d / "config.yml").write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {d / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n")
    proc = subprocess.Popen(["docker-registry", "serve", str(d / "config.yml")],
                            stdout=subprocess.DEVNULL, stderr=open(d / "registry.log", "w"))
    for _ in range(100):
        try:
            if http("GET", f"http://127.0.0.1:{port}/v2/", timeout=1)[0] == 200:
                break
        except OSError:
            pass
        threading.Event().wait(0.1)
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def dist(tmp_path_factory, registry):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([str(ROOT / "packaging" / "package.sh"), "--quick", "--out", str(out),
                    "--push", f"{registry}/llm-gateway:{VERSION}", "--tls-verify=false"],
                   check=True, cwd=ROOT)
    return out


def test_artifacts_are_named_checksummed_and_licensed(dist):
    names = {p.name for p in dist.iterdir()}
    assert {WASM_NAME, WASM_NAME + ".sha256", "LICENSE", "CHANGELOG.md", f"llm-gateway-{VERSION}.cdx.json",
            f"llm-gateway-{VERSION}.oci.tar"} <= names
    digest, name = (dist / (WASM_NAME + ".sha256")).read_text().split()
    assert name == WASM_NAME and digest == sha256(dist / WASM_NAME)
    assert "Apache License" in (dist / "LICENSE").read_text()
    assert f"## {VERSION}" in (dist / "CHANGELOG.md").read_text()
    wasm = (dist / WASM_NAME).read_bytes()
    assert wasm[:4] == b"\0asm"


def test_an_sbom_lists_the_crates_compiled_into_the_module(dist):
    sbom = json.loads((dist / f"llm-gateway-{VERSION}.cdx.json").read_text())
    assert sbom["bomFormat"] == "CycloneDX"
    root = sbom["metadata"]["component"]
    assert (root["name"], root["version"]) == ("llm-gateway", VERSION)
    assert root["hashes"] == [{"alg": "SHA-256", "content": sha256(dist / WASM_NAME)}]
    crates = {c["name"]: c for c in sbom["components"]}
    lock = (ROOT / "Cargo.lock").read_text()
    for name in ("serde_json", "proxy-wasm", "sha2", "log"):
        assert f'name = "{name}"\nversion = "{crates[name]["version"]}"' in lock, name
        assert crates[name]["purl"] == f"pkg:cargo/{name}@{crates[name]['version']}"
    # Only what is compiled into the module: no test-only, native-only or tiktoken crates.
    assert not {"wasmtime", "tokio", "hyper", "tiktoken-rs"} & crates.keys()


def test_the_build_is_reproducible_from_another_checkout(dist, tmp_path):
    # Another checkout of the same tree at another path, another target dir: same bytes.
    src = tmp_path / "checkout"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    for f in files:
        if (ROOT / f).is_file():
            (src / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, src / f)
    subprocess.run(["git", "init", "-q"], cwd=src, check=True)
    out = tmp_path / "dist"
    env = {"PACKAGE_TARGET_DIR": str(tmp_path / "target"), "PATH": subprocess.os.environ["PATH"],
           "HOME": subprocess.os.environ.get("HOME", "/root"), "SOURCE_DATE_EPOCH": "0",
           "PACKAGE_NO_IMAGE": "1", "PYTHON": sys.executable}
    for k in ("CARGO_HOME", "RUSTUP_HOME"):
        if k in subprocess.os.environ:
            env[k] = subprocess.os.environ[k]
    subprocess.run([str(src / "packaging" / "package.sh"), "--quick", "--out", str(out)],
                   check=True, cwd=src, env=env)
    assert sha256(out / WASM_NAME) == sha256(dist / WASM_NAME)


def pulled_module(registry, dest):
    """Pull the image with skopeo (not the client that pushed it) and return the bytes of the
    plugin.wasm its single layer holds, with the manifest."""
    subprocess.run(["skopeo", "copy", "--src-tls-verify=false",
                    f"docker://{registry}/llm-gateway:{VERSION}", f"oci:{dest}:{VERSION}"],
                   check=True, capture_output=True)
    index = json.loads((dest / "index.json").read_text())
    blob = lambda d: dest / "blobs" / "sha256" / d.split(":", 1)[1]  # noqa: E731
    manifest = json.loads(blob(index["manifests"][0]["digest"]).read_bytes())
    [layer] = manifest["layers"]
    data = blob(layer["digest"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == layer["digest"].split(":", 1)[1]
    if layer["mediaType"].endswith("+gzip"):
        data = gzip.decompress(data)
    layer_tar = dest / "layer.tar"
    layer_tar.write_bytes(data)
    with tarfile.open(layer_tar) as t:
        names = [m.name.lstrip("./") for m in t.getmembers() if m.isfile()]
        assert names == ["plugin.wasm"], names
        module = t.extractfile(t.getmember(next(m.name for m in t.getmembers() if m.isfile()))).read()
    return module, manifest


def test_oci_image_round_trips_through_a_registry_and_serves(dist, registry, mocks, tmp_path):
    module, manifest = pulled_module(registry, tmp_path / "pulled")
    assert manifest["annotations"]["org.opencontainers.image.version"] == VERSION
    assert hashlib.sha256(module).hexdigest() == sha256(dist / WASM_NAME)
    pulled = tmp_path / "plugin.wasm"
    pulled.write_bytes(module)
    envoy = Envoy(mocks, wasm=pulled, name="oci-pulled")
    try:
        chat_and_stream(envoy, mocks)
    finally:
        envoy.stop()


def chat_and_stream(envoy, mocks):
    mocks["anthropic_mock"].reset()
    status, _, body = envoy.chat(json.dumps(
        {"model": "claude-sonnet", "messages": [{"role": "user", "content": "hi"}]}).encode())
    assert status == 200, body
    assert json.loads(body)["choices"][0]["message"]["content"] == "mock anthropic says: hi"
    status, _, body = envoy.chat(json.dumps(
        {"model": "claude-sonnet", "stream": True, "messages": [{"role": "user", "content": "yo"}]}).encode())
    assert status == 200 and body.decode().rstrip().endswith("data: [DONE]"), body


class _Quiet(httpserver.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def file_server(dist):
    port = free_port()
    handler = lambda *a, **kw: _Quiet(*a, directory=str(dist), **kw)  # noqa: E731
    server = httpserver.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield port
    server.shutdown()


def remote_code(port, digest):
    def edit(doc):
        filt = next(f for f in doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
                    ["typed_config"]["http_filters"] if f["name"] == "llm-gateway")
        filt["typed_config"]["config"]["vm_config"]["code"] = {"remote": {
            "http_uri": {"uri": f"http://127.0.0.1:{port}/{WASM_NAME}", "cluster": "wasm_server",
                         "timeout": "10s"},
            "sha256": digest}}
        doc["static_resources"]["clusters"].append({
            "name": "wasm_server", "type": "STATIC", "connect_timeout": "1s",
            "load_assignment": {"cluster_name": "wasm_server", "endpoints": [{"lb_endpoints": [
                {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}}}]}]}})
    return edit


def test_envoy_fetches_the_module_remotely_by_sha256(dist, file_server, mocks):
    envoy = Envoy(mocks, name="remote-wasm", edit=remote_code(file_server, sha256(dist / WASM_NAME)))
    try:
        chat_and_stream(envoy, mocks)
    finally:
        envoy.stop()


def test_a_remote_module_with_the_wrong_sha256_is_refused(dist, file_server, mocks):
    # Envoy fetches, finds another digest, retries, gives up, and the plugin (fail closed)
    # does not load: nothing reaches a provider.
    wrong = hashlib.sha256(b"not the module").hexdigest()
    mocks["anthropic_mock"].reset()
    envoy = Envoy(mocks, name="remote-wasm-bad", edit=remote_code(file_server, wrong))
    try:
        for _ in range(100):
            if "Plugin llm-gateway failed to load" in envoy.log():
                break
            threading.Event().wait(0.1)
        assert "Plugin llm-gateway failed to load" in envoy.log()
        status, _, _ = envoy.chat(json.dumps(
            {"model": "claude-sonnet", "messages": [{"role": "user", "content": "hi"}]}).encode())
        assert status >= 500
        assert mocks["anthropic_mock"].requests() == []
    finally:
        envoy.stop()
