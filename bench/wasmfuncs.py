#!/usr/bin/env python3
"""Instructions per request in each of the filter's Wasm functions, exactly: the wasmtime host
(`wasm-bench`) runs a scenario under `valgrind --tool=callgrind --dump-instr=yes` with
`WASM_HOST_PERFMAP=1` (wasmtime writes /tmp/perf-<pid>.map naming every compiled function), and
each instruction's cost is credited to the function whose code holds its address. Two runs
(N and 6N requests) are subtracted, so VM start-up and configuration drop out.

    .venv/bin/python bench/wasmfuncs.py [SCENARIO] [--requests 200] [--wasm PATH] [--top 40]

Build the `.wasm` with symbols first (the release profile strips them):
    CARGO_PROFILE_RELEASE_STRIP=none cargo build --release --target wasm32-wasip1 \\
        -p llm-gateway --target-dir /tmp/tdwasm
Cranelift's code is not V8's, so absolute numbers differ from Envoy's (bench/icount.py is the
judge), but the split between functions is what to optimise by. Perf's sampling attributes
much of this code wrongly; these counts are exact. Nothing here asserts anything.
"""

import argparse
import bisect
import collections
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import icount  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "target" / "release" / "wasm-bench"
DEFAULT_WASM = Path("/tmp/tdwasm/wasm32-wasip1/release/llm_gateway.wasm")


def perf_map(path):
    rows = []
    for line in open(path):
        addr, size, name = line.rstrip("\n").split(" ", 2)
        rows.append((int(addr, 16), int(addr, 16) + int(size, 16), name))
    rows.sort()
    return rows


def jit_costs(dump, rows):
    """Self cost per mapped function of the code callgrind could not name (object '???')."""
    starts = [r[0] for r in rows]
    cost = collections.Counter()
    for ob, addr, n in icount.self_costs(dump):
        if ob != "???":
            continue
        i = bisect.bisect_right(starts, addr) - 1
        name = rows[i][2] if i >= 0 and addr < rows[i][1] else "(unmapped: V8/wasmtime stubs)"
        cost[name] += n
    return cost


def run(scenario, wasm, requests, out):
    env = dict(os.environ, WASM_HOST_PERFMAP="1")
    p = subprocess.run(["valgrind", "--tool=callgrind", "--dump-instr=yes", f"--callgrind-out-file={out}",
                        str(BENCH), "--wasm", str(wasm), "--requests", str(requests), scenario],
                       env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"wasm-bench failed: {p.stderr[-2000:]}")
    pid = re.search(r"==(\d+)==", p.stderr).group(1)
    return jit_costs(out, perf_map(f"/tmp/perf-{pid}.map"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="chat-anthropic", help="a wasm-bench scenario")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--wasm", default=str(DEFAULT_WASM))
    ap.add_argument("--top", type=int, default=40)
    args = ap.parse_args()
    if not Path(args.wasm).exists():
        sys.exit(f"{args.wasm} missing: build it with symbols (see --help)")
    out = ROOT / "bench" / ".out"
    out.mkdir(exist_ok=True)
    small = run(args.scenario, args.wasm, args.requests, out / "wasmfuncs-small.cg")
    large = run(args.scenario, args.wasm, 6 * args.requests, out / "wasmfuncs-large.cg")
    # wasm-bench adds a tenth as warm-up to the first batch: the same fraction in both runs.
    n = 5 * args.requests * 1.1
    per = {k: (large[k] - small.get(k, 0)) / n for k in large}
    total = sum(per.values())
    print(f"{args.scenario}: {total:,.0f} JIT instructions per request (wasmtime)")
    for name, v in sorted(per.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{v:9,.0f} {100 * v / total:5.1f}%  {name[:140]}")


if __name__ == "__main__":
    main()
