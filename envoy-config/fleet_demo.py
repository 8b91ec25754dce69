"""Writes the two Envoy configurations of `./build.sh demo fleet` from demo.yaml: fleet mode
on (store cluster llm_store → llm-store on 127.0.0.1:18090), two demo keys, and replica N
listening on 10000+N (admin 9901+N). Usage: fleet_demo.py OUT_DIR"""

import hashlib
import json
import sys
from pathlib import Path

import yaml

DEMO = Path(__file__).with_name("demo.yaml")
KEYS = {"app": ("sk-fleet-demo", {"rpm": 5, "tpm": 20000, "budget_usd": 1, "budget_period": "day"}),
        "admin": ("sk-fleet-admin", {"admin": True})}


def replica(n):
    doc = yaml.safe_load(DEMO.read_text())
    doc["admin"]["address"]["socket_address"]["port_value"] = 9901 + n
    listener = doc["static_resources"]["listeners"][0]
    listener["address"]["socket_address"]["port_value"] = 10000 + n
    hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
    wasm = next(f for f in hcm["http_filters"] if f["name"] == "llm-gateway")
    value = wasm["typed_config"]["config"]["configuration"]
    cfg = json.loads(value["value"])
    cfg["access"] = {"keys": [dict({"name": name, "sha256": hashlib.sha256(k.encode()).hexdigest()}, **extra)
                              for name, (k, extra) in KEYS.items()]}
    cfg["fleet"] = {"cluster": "llm_store", "failure": "fail_open"}
    value["value"] = json.dumps(cfg)
    doc["static_resources"]["clusters"].append({
        "name": "llm_store", "type": "STATIC", "connect_timeout": "0.25s",
        "load_assignment": {"cluster_name": "llm_store", "endpoints": [{"lb_endpoints": [{"endpoint": {
            "address": {"socket_address": {"address": "127.0.0.1", "port_value": 18090}}}}]}]}})
    return doc


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for n in (0, 1):
        (out / f"fleet-{n}.yaml").write_text(yaml.safe_dump(replica(n), sort_keys=False))
