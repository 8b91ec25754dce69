"""Write the schemas of the Istio CRDs the manifests in examples/istio use, from Istio's
`crd-all.gen.yaml` (manifests/charts/base/files/crd-all.gen.yaml in an Istio release; the copy
this was generated from is ../shared/reference/istio/crd-all.gen.yaml of the project's shared
reference data), to istio-crd-schemas.json beside this script:
{"<group>/<version>/<Kind>": <openAPIV3Schema>}.

    python3 examples/istio/crds/extract.py path/to/crd-all.gen.yaml
"""

import hashlib
import json
import sys
from pathlib import Path

import yaml

# The kinds the manifests use, and the two Wasm kinds the tests show cannot be used.
KINDS = {"EnvoyFilter", "Gateway", "VirtualService", "ServiceEntry", "DestinationRule",
         "PeerAuthentication", "AuthorizationPolicy", "WasmPlugin", "TrafficExtension"}


def main(source):
    raw = Path(source).read_bytes()
    out = {"_source": {"file": "crd-all.gen.yaml", "sha256": hashlib.sha256(raw).hexdigest()}}
    for doc in yaml.safe_load_all(raw):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc["spec"]
        kind = spec["names"]["kind"]
        if kind not in KINDS:
            continue
        for version in spec["versions"]:
            out[f"{spec['group']}/{version['name']}/{kind}"] = version["schema"]["openAPIV3Schema"]
    missing = KINDS - {k.rsplit("/", 1)[1] for k in out if k != "_source"}
    if missing:
        sys.exit(f"not in {source}: {sorted(missing)}")
    dest = Path(__file__).with_name("istio-crd-schemas.json")
    dest.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {dest} ({len(out) - 1} kind/version schemas)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference/istio/crd-all.gen.yaml")
