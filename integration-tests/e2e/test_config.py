"""The shipped configuration validates, and an invalid plugin configuration makes Envoy
refuse the plugin with a log line naming the field."""

import os
import subprocess

import yaml

from harness import DEMO, ENVOY, KEYS, LOGS, ROOT, WASM, _wasm_filter, demo_plugin_config


def validate(doc, name):
    LOGS.mkdir(parents=True, exist_ok=True)
    path = LOGS / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return subprocess.run([str(ENVOY), "--mode", "validate", "-c", str(path), "--disable-hot-restart"],
                          capture_output=True, text=True, env=dict(os.environ, **KEYS), cwd=ROOT, timeout=60)


def demo():
    doc = yaml.safe_load(DEMO.read_text())
    _wasm_filter(doc)["typed_config"]["config"]["vm_config"]["code"]["local"]["filename"] = str(WASM)
    return doc


def test_demo_config_is_valid():
    r = validate(demo(), "validate-demo")
    assert r.returncode == 0, r.stderr[-2000:]
    cfg = demo_plugin_config()
    assert f"configured {len(cfg['providers'])} providers, {len(cfg['models'])} models" in r.stderr


def test_invalid_plugin_config_is_refused_with_the_field_named():
    cases = {
        '{"providers":[{"name":"a","kind":"openai","cluster":"c","colour":"red"}]}': "unknown field `colour`",
        '{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"models":[{"name":"m","targets":[{"provider":"zz","model":"x"}]}]}':
            "models[0].targets[0].provider",
        '{"providers":[{"name":"a","kind":"openai","cluster":"c","api_key_env":"NOT_SET_ANYWHERE"}],"allow_provider_model":true}':
            "providers[0].api_key_env",
        # A path, not a line and column inside the embedded string.
        '{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"models":[{"name":"m","targets":[{"provider":"a","model":"x","weight":-1}]}]}':
            "models[0].targets[0].weight: invalid value: integer `-1`",
        '{"providers":[{"name":"a","kind":"antropic","cluster":"c"}],"allow_provider_model":true}':
            "providers[0].kind: unknown variant `antropic`",
        # A budget that could never be charged.
        '{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"models":[{"name":"m","targets":[{"provider":"a","model":"x"}]}],'
        '"access":{"keys":[{"name":"k","sha256":"' + "0" * 64 + '","budget_usd":0.000001}]}}':
            "access.keys[0].budget_usd: the key can spend on model",
    }
    for value, needle in cases.items():
        doc = demo()
        _wasm_filter(doc)["typed_config"]["config"]["configuration"]["value"] = value
        r = validate(doc, "validate-bad")
        assert r.returncode != 0, value
        assert needle in r.stderr, (needle, r.stderr[-2000:])


def test_secrets_never_logged(gateway):
    log = gateway.log()
    for secret in KEYS.values():
        assert secret not in log
