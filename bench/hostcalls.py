#!/usr/bin/env python3
"""What one host call costs in Envoy + V8, by kind: instructions per request of the no-op Wasm
filter built to make ten calls of that kind per request (`bench/noop-filter`, `PROBE=<kind>`),
minus the plain no-op's, divided by ten. Counted with callgrind like `bench/icount.py`.

    .venv/bin/python bench/hostcalls.py [KIND ...] [--requests 400] [--out bench/hostcalls.md]

Every kind is a call the gateway makes per request, with values of the gateway's sizes. Takes
about 100 s per kind on an idle machine; nothing here asserts anything.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402
import icount  # noqa: E402

KINDS = {
    "replace_header": "replace one request header (`proxy_replace_header_map_value`)",
    "add_header": "add one request header (`proxy_add_header_map_value`)",
    "replace_response_header": "replace one response header",
    "get_header": "read one request header (`proxy_get_header_map_value`)",
    "get_header_map": "read all request headers (`proxy_get_header_map_pairs`, raw)",
    "get_response_header_map": "read all response headers (raw)",
    "set_response_body": "replace the response body (`proxy_set_buffer_bytes`)",
    "clear_route_cache": "`proxy_call_foreign_function(\"clear_route_cache\")`",
    "record_histogram": "record a histogram value (id cached)",
    "increment_counter": "increment a counter (id cached)",
    "get_shared_data_miss": "read an absent shared-data key",
    "get_shared_data_hit": "read a 16-byte shared-data value",
    "set_property": "set a filter-state value for the access log (`proxy_set_property`)",
    "get_current_time": "read the clock (`proxy_get_current_time_nanoseconds`)",
}
CRATE = bench.ROOT / "bench" / "noop-filter"
BUILD = bench.ROOT / "target" / "bench-probe"


def build(kind):
    env = dict(__import__("os").environ, PROBE=kind)
    subprocess.run(["cargo", "build", "-q", "--release", "--target", "wasm32-wasip1",
                    "--manifest-path", str(CRATE / "Cargo.toml"), "--target-dir", str(BUILD)],
                   check=True, env=env)
    out = BUILD / f"{kind}.wasm"
    shutil.copy(BUILD / "wasm32-wasip1" / "release" / "bench_noop_filter.wasm", out)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kinds", nargs="*", metavar="KIND", help=", ".join(KINDS))
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--warmup", type=int, default=150)
    ap.add_argument("--out", help="also write the table here (markdown)")
    args = ap.parse_args()
    kinds = args.kinds or list(KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        ap.error(f"unknown kinds {unknown}; known: {', '.join(KINDS)}")
    bench.OUT.mkdir(exist_ok=True)
    body = bench.bodies()["openai-claude-sonnet"].read_bytes()
    calls = 10  # bench/noop-filter/src/probe.rs CALLS
    mock = bench.Mock()
    rows = []
    try:
        base = None
        for kind in ["none"] + kinds:
            bench.NOOP_WASM = build(kind)
            split, statuses = icount.measure("noop", mock, body, args.requests, args.warmup)
            per = {k: v / args.requests for k, v in split.items()}
            total = sum(per.values())
            if set(statuses) != {200}:
                raise RuntimeError(f"{kind}: statuses {dict(statuses)}")
            if base is None:
                base = per
                print(f"no-op: {total:,.0f} instructions/request", flush=True)
                continue
            d = {k: (per.get(k, 0) - base.get(k, 0)) / calls for k in ("Envoy", "JIT (Wasm + V8 builtins)", "libc")}
            one = (total - sum(base.values())) / calls
            rows.append((kind, one, d))
            print(f"{kind}: {one:,.0f} per call (Envoy {d['Envoy']:,.0f}, JIT {d['JIT (Wasm + V8 builtins)']:,.0f}, "
                  f"libc {d['libc']:,.0f})", flush=True)
    finally:
        mock.stop()
    lines = ["| host call | instructions per call | Envoy | JIT (V8) | libc |", "|---|---:|---:|---:|---:|"]
    for kind, one, d in rows:
        lines.append(f"| {KINDS[kind]} | {one:,.0f} | {d['Envoy']:,.0f} | {d['JIT (Wasm + V8 builtins)']:,.0f} | "
                     f"{d['libc']:,.0f} |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).write_text(
            "# Host calls: instructions per call in Envoy + V8\n\n"
            "`bench/hostcalls.py` (no-op filter making ten calls of one kind per request, minus the plain "
            f"no-op, ÷ 10; {args.requests} requests after {args.warmup} warm-up, Envoy's one worker under "
            "callgrind). Calls that return data cost more: Envoy allocates the result inside the VM by "
            "calling back into it (`proxy_on_memory_allocate`).\n\n" + table + "\n")


if __name__ == "__main__":
    main()
