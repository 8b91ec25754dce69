#!/usr/bin/env python3
"""VM start-up and size of one or more builds of the filter, in real Envoy (V8).

    .venv/bin/python bench/startup.py WASM [WASM ...] [--runs 5]

For each `.wasm`, starts Envoy on the bench's filter configuration (two workers) `--runs` times
and reports, from Envoy's own log clock, the median time from "loading 1 listener(s)" to the
first VM's "configured" line (load + compile + on_configure) and to the last one (main thread and
every worker). Wall-clock on a shared machine: compare builds within one run of this script.
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402


def measure(wasm, runs, mock):
    bench.WASM = Path(wasm).resolve()
    first, last = [], []
    for _ in range(runs):
        envoy = bench.Envoy("filter", mock.port)
        try:
            t = envoy.vm_start_ms()
        finally:
            envoy.stop()
        if t:
            first.append(t["first_ms"])
            last.append(t["last_ms"])
    return first, last


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wasm", nargs="+")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    mock = bench.Mock()
    try:
        print("| build | size | first VM (median ms) | all VMs (median ms) |")
        print("|---|---:|---:|---:|")
        for wasm in args.wasm:
            first, last = measure(wasm, args.runs, mock)
            size = Path(wasm).stat().st_size
            fm = f"{statistics.median(first):.0f}" if first else "n/a"
            lm = f"{statistics.median(last):.0f}" if last else "n/a"
            print(f"| {Path(wasm).name} | {size:,} B | {fm} | {lm} |", flush=True)
    finally:
        mock.stop()


if __name__ == "__main__":
    main()
