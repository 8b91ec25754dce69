#!/usr/bin/env python3
"""A CycloneDX SBOM of the crates compiled into the filter's .wasm.

    python packaging/sbom.py OUT.cdx.json [--features tiktoken] [--wasm FILE]

The crate graph is cargo's own resolution for wasm32-wasip1 (`cargo metadata --locked
--filter-platform wasm32-wasip1`), walked from `llm-gateway` along normal dependencies (build
scripts and dev-dependencies are not compiled into the module); the document is written by
`cyclonedx-python-lib` (the CycloneDX project's library), not by hand. With `--wasm`, the
module's sha256 is recorded on the root component.
"""

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

from cyclonedx.model import HashAlgorithm, HashType
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import LicenseExpression
from cyclonedx.output.json import JsonV1Dot5
from packageurl import PackageURL

ROOT = Path(__file__).resolve().parents[1]


def metadata(features):
    cmd = ["cargo", "metadata", "--format-version", "1", "--locked",
           "--filter-platform", "wasm32-wasip1"]
    if features:
        cmd += ["--features", ",".join(features)]
    return json.loads(subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True).stdout)


def compiled_into_module(meta):
    """Package ids reachable from llm-gateway through normal dependencies."""
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = next(p["id"] for p in meta["packages"] if p["name"] == "llm-gateway")
    seen, todo = {root}, [root]
    while todo:
        for dep in nodes[todo.pop()]["deps"]:
            if any(k["kind"] is None for k in dep["dep_kinds"]) and dep["pkg"] not in seen:
                seen.add(dep["pkg"])
                todo.append(dep["pkg"])
    return root, seen


def component(pkg, kind=ComponentType.LIBRARY):
    registry = (pkg.get("source") or "").startswith("registry+")
    c = Component(
        name=pkg["name"], version=pkg["version"], type=kind, bom_ref=pkg["id"],
        purl=PackageURL("cargo", name=pkg["name"], version=pkg["version"]) if registry else None,
        description=(pkg.get("description") or "").strip() or None)
    if pkg.get("license"):
        c.licenses.add(LicenseExpression(pkg["license"]))
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--features", action="append", default=[])
    ap.add_argument("--wasm")
    args = ap.parse_args()
    meta = metadata(args.features)
    root_id, ids = compiled_into_module(meta)
    packages = {p["id"]: p for p in meta["packages"]}
    bom = Bom()
    root = component(packages[root_id], ComponentType.APPLICATION)
    if args.wasm:
        digest = hashlib.sha256(Path(args.wasm).read_bytes()).hexdigest()
        root.hashes.add(HashType(alg=HashAlgorithm.SHA_256, content=digest))
    bom.metadata.component = root
    by_id = {root_id: root}
    for pid in sorted(ids - {root_id}):
        by_id[pid] = component(packages[pid])
        bom.components.add(by_id[pid])
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    for pid in sorted(ids):
        deps = [by_id[d["pkg"]] for d in nodes[pid]["deps"]
                if d["pkg"] in ids and any(k["kind"] is None for k in d["dep_kinds"])]
        bom.register_dependency(by_id[pid], deps)
    Path(args.out).write_text(JsonV1Dot5(bom).output_as_string(indent=2))
    print(f"{args.out}: {len(ids) - 1} crates", file=sys.stderr)


if __name__ == "__main__":
    main()
