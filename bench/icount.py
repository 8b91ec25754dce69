#!/usr/bin/env python3
"""Instructions Envoy executes per request, counted by callgrind: repeatable to ~0.1 % where
wall-clock A/B runs on this shared 2-core machine swing by ±15 %.

    .venv/bin/python bench/icount.py [plain|noop|filter ...] [--wasm PATH] [--model openai-claude-sonnet]
                                     [--requests 1000]
                                     [--path /v1/messages] [--as-model gpt-4o-mini]

Runs Envoy (one worker) under `valgrind --tool=callgrind`, with the same configs as `./build.sh bench`
(`--wasm` swaps the filter's .wasm, so two builds can be compared), sends 300 (`--warmup`) warm-up requests
on one kept-alive connection, zeroes the counters, sends `--requests` more, dumps, and prints
instructions per request split into Envoy's own code, JIT code (V8's compiled Wasm and its
builtins, which live outside the binary) and libc. Needs valgrind. Nothing here asserts anything.
"""

import argparse
import collections
import http.client
import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402


def self_costs(path):
    """Yield (object, first position, self cost) for every cost line of a callgrind dump,
    skipping the inclusive cost lines that follow `calls=`. The first position is the
    instruction address with `--dump-instr=yes` (relative forms resolved), else the line."""
    objects, cur, pos, skip = {}, None, 0, False
    for line in open(path, errors="replace"):
        if line.startswith(("ob=", "cob=")):
            m = re.match(r"c?ob=\((\d+)\)(?: (.*))?", line.strip())
            if m and m.group(2):
                objects[m.group(1)] = m.group(2)
            if line.startswith("ob=") and m:
                cur = objects.get(m.group(1), m.group(1))
        elif line.startswith("calls="):
            skip = True  # the next cost line is the call's inclusive cost
        elif line[:1].isdigit() or line[:1] in "+-*":
            parts = line.split()
            if len(parts) < 2:
                continue
            tok = parts[0]
            if tok.startswith("+"):
                pos += int(tok[1:], 0)
            elif tok.startswith("-"):
                pos -= int(tok[1:], 0)
            elif tok != "*":
                pos = int(tok, 0)
            if skip:
                skip = False
                continue
            yield cur, pos, int(parts[-1])


def self_cost_by_object(path):
    """Sum callgrind's self cost per object (the Envoy binary is stripped: no function names)."""
    totals = collections.Counter()
    for ob, _, n in self_costs(path):
        totals[ob] += n
    out = collections.Counter()
    for ob, n in totals.items():
        name = "Envoy" if ob and ob.endswith("/envoy") else "libc" if ob and "libc" in ob else \
            "JIT (Wasm + V8 builtins)" if ob == "???" else "other"
        out[name] += n
    return out


def post(conn, body, path="/v1/chat/completions"):
    conn.request("POST", path, body, {"content-type": "application/json"})
    r = conn.getresponse()
    r.read()
    return r.status


def measure(kind, mock, body, requests, warmup=300, path="/v1/chat/completions"):
    port, admin = bench.free_port(), bench.free_port()
    cfg = bench.envoy_config(kind, port, admin, mock.port)
    out = bench.OUT / "callgrind"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(f"{kind}.*"):
        old.unlink()
    argv = ["valgrind", "--tool=callgrind", "--smc-check=all-non-file",
            f"--callgrind-out-file={out}/{kind}.%p", str(bench.ENVOY), "-c", str(cfg),
            "--concurrency", "1", "--disable-hot-restart", "-l", "warning"]
    env = dict(__import__("os").environ, **bench.DEMO_ENV)
    server = bench.Server(f"callgrind-{kind}", argv, bench.ok_200(f"http://127.0.0.1:{admin}/ready"),
                          env=env, timeout=600)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        statuses = collections.Counter(post(conn, body, path) for _ in range(warmup))
        subprocess.run(["callgrind_control", "-z", str(server.pid)], check=True, capture_output=True)
        statuses.update(post(conn, body, path) for _ in range(requests))
        subprocess.run(["callgrind_control", "-d", str(server.pid)], check=True, capture_output=True)
        time.sleep(1)
        dumps = sorted(out.glob(f"{kind}.{server.pid}.*"), key=lambda p: p.stat().st_mtime)
        if not dumps:
            raise RuntimeError("callgrind wrote no dump")
        split = self_cost_by_object(dumps[-1])
    finally:
        server.stop()
    return split, statuses


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kinds", nargs="*", default=["filter"], choices=["plain", "noop", "filter"])
    ap.add_argument("--wasm", help="the filter's .wasm (default: the release build)")
    ap.add_argument("--model", default="openai-claude-sonnet", help="bench.bodies() key")
    ap.add_argument("--path", default="/v1/chat/completions",
                    help="endpoint (/v1/messages for the Anthropic-shaped bodies)")
    ap.add_argument("--as-model", help="replace the body's model (e.g. gpt-4o-mini: /v1/messages served by OpenAI)")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=300, help="requests before counting")
    args = ap.parse_args()
    if args.wasm:
        bench.WASM = Path(args.wasm).resolve()
    bench.OUT.mkdir(exist_ok=True)
    body = bench.bodies()[args.model].read_bytes()
    if args.as_model:
        body = json.dumps(dict(json.loads(body), model=args.as_model)).encode()
    mock = bench.Mock()
    try:
        for kind in args.kinds or ["filter"]:
            split, statuses = measure(kind, mock, body, args.requests, args.warmup, args.path)
            total = sum(split.values())
            parts = ", ".join(f"{k} {v / args.requests:,.0f}" for k, v in split.most_common())
            print(f"{kind} ({args.model}): {total / args.requests:,.0f} instructions/request "
                  f"({parts}); statuses {dict(statuses)}", flush=True)
    finally:
        mock.stop()


if __name__ == "__main__":
    main()
