#!/usr/bin/env bash
# The benchmark (issue 7). Called by `./build.sh bench [--smoke]` after setup + build.
#   bench/run.sh           full run (~10 min): 3 × 10 s per target and concurrency, peers included;
#                          writes bench/results.md
#   bench/run.sh --smoke   a few seconds per target, no peers (CI can run it); writes
#                          bench/.out/results-smoke.md
#   bench/run.sh --no-peers  full durations without LiteLLM and Portkey
#   bench/run.sh --only envoy-plain,filter-anthropic [--duration 5] [--reps 1]
#                          a partial run (bench/.out/results-partial.md, no micro-benchmarks);
#                          keys: bench/bench.py --help
#   bench/run.sh --no-micro  skip the micro-benchmarks (translation per provider natively and
#                          in the VM, token estimation), which otherwise run first (~1 min; with
#                          --smoke a few seconds) and become a section of the results
# Installs what it needs, idempotently: wrk (apt), and for full runs the peers, pinned
# (LiteLLM into bench/.venv-peers, the Portkey gateway under bench/.peers/).
set -euo pipefail
cd "$(dirname "$0")/.."

LITELLM_VERSION=${LITELLM_VERSION:-1.106.2}
PORTKEY_VERSION=${PORTKEY_VERSION:-1.15.2}
PORTKEY_HONO_NODE_SERVER=${PORTKEY_HONO_NODE_SERVER:-1.13.5}
OUT=bench/.out
PEERS=1
MICRO=1
QUICK=""
for arg in "$@"; do
  case "$arg" in
    --smoke) PEERS=0; QUICK=--quick ;;
    --no-peers) PEERS=0 ;;
    --only|--only=*) MICRO=0 ;;
    --no-micro) MICRO=0 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) ;;  # bench.py checks the rest
  esac
done

log() { printf '\033[1m==> bench: %s\033[0m\n' "$*" >&2; }
mkdir -p "$OUT"

for need in .venv/bin/envoy .venv/bin/python target/release/mock-provider \
            target/wasm32-wasip1/release/llm_gateway.wasm; do
  [ -e "$need" ] || { echo "bench: $need missing; run ./build.sh bench (it sets up and builds first)" >&2; exit 1; }
done

if ! command -v wrk >/dev/null; then
  log "installing wrk (apt)"
  sudo_=""
  [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get install -y -q wrk >/dev/null 2>&1 \
    || { $sudo_ apt-get update -q >/dev/null && $sudo_ apt-get install -y -q wrk >/dev/null; }
fi

# The no-op Wasm filter (bench/noop-filter): the floor any body-reading Wasm filter pays in V8.
rm -f "$OUT/noop.unavailable"
if ! cargo build -q --release --target wasm32-wasip1 --manifest-path bench/noop-filter/Cargo.toml \
       --target-dir target/bench-noop >"$OUT/build-noop.log" 2>&1; then
  { echo -n "build failed: "; tail -n 2 "$OUT/build-noop.log" | tr '\n' ' ' | cut -c1-300; } >"$OUT/noop.unavailable"
  log "the no-op Wasm filter did not build (see $OUT/build-noop.log); the table will say so"
fi

# A peer that cannot be installed is reported in the table with the reason, never faked.
peer_failed() { # name, log file
  { echo -n "install failed: "; grep -v '^\s*$' "$2" | tail -n 2 | tr '\n' ' ' | cut -c1-300; } >"$OUT/$1.unavailable"
  log "$1 could not be installed (see $2); the table will say so"
}

install_litellm() {
  local venv=bench/.venv-peers stamp=bench/.venv-peers/.litellm-$LITELLM_VERSION
  rm -f "$OUT/litellm.unavailable"
  [ -e "$stamp" ] && return 0
  log "installing litellm[proxy]==$LITELLM_VERSION into $venv"
  if { [ -x "$venv/bin/python" ] || python3 -m venv "$venv"; } \
     && "$venv/bin/pip" install -q --upgrade pip \
     && "$venv/bin/pip" install -q "litellm[proxy]==$LITELLM_VERSION"; then
    touch "$stamp"
  else
    return 1
  fi
}

# Two installs of the same gateway release: as published (npm resolves its dependency ranges the
# way `npx @portkey-ai/gateway` does) for the request rows, and one with @hono/node-server pinned
# for the streaming rows. The gateway asks for @hono/node-server ^1.3.3; with the releases npm picks
# today every stream fails with "TypeError: immutable" (HTTP 500 "Something went wrong";
# Portkey-AI/gateway#1389). 1.13.5, what the gateway's own lockfile resolves, streams fine on
# Node 20; 1.14.2 and later fail here.
install_portkey() { # name, @hono/node-server version to pin (empty: as published)
  local name=$1 pin=$2 dir=bench/.peers/$1
  local spec="@portkey-ai/gateway@$PORTKEY_VERSION${pin:+ @hono/node-server@$pin}"
  rm -f "$OUT/$name.unavailable"
  if [ -e "$dir/node_modules/@portkey-ai/gateway/build/start-server.js" ] \
     && [ "$(cat "$dir/.bench-spec" 2>/dev/null)" = "$spec" ]; then
    return 0
  fi
  command -v npm >/dev/null || { echo "npm not found (Portkey needs Node.js and npm)"; return 1; }
  log "installing @portkey-ai/gateway@$PORTKEY_VERSION${pin:+ with @hono/node-server $pin} under $dir"
  mkdir -p "$dir"
  local overrides=""
  [ -z "$pin" ] || overrides=", \"overrides\": {\"@hono/node-server\": \"$pin\"}"
  echo "{\"private\": true, \"dependencies\": {\"@portkey-ai/gateway\": \"$PORTKEY_VERSION\"}$overrides}" >"$dir/package.json"
  rm -rf "$dir/node_modules" "$dir/package-lock.json" "$dir/.bench-spec"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
  echo "$spec" >"$dir/.bench-spec"
}

if [ "$PEERS" = 1 ]; then
  install_litellm >"$OUT/install-litellm.log" 2>&1 || peer_failed litellm "$OUT/install-litellm.log"
  install_portkey portkey "" >"$OUT/install-portkey.log" 2>&1 || peer_failed portkey "$OUT/install-portkey.log"
  install_portkey portkey-pinned "$PORTKEY_HONO_NODE_SERVER" >"$OUT/install-portkey-pinned.log" 2>&1 \
    || peer_failed portkey-pinned "$OUT/install-portkey-pinned.log"
fi

# Micro-benchmarks (release builds): translation and stream rewriting per provider natively
# (filter/benches/translate.rs) and through the .wasm in the wasmtime host (wasm-bench), token
# estimation for a 10 KB prompt (filter/examples/estimate_cost.rs, tiktoken build if it builds).
# Each writes bench/.out/micro-*.json for bench.py's report; one that fails leaves
# micro-*.unavailable with the reason instead. Nothing is compared with a threshold.
micro() { # name, log, command…
  local name=$1 log=$2
  shift 2
  rm -f "$OUT/micro-$name.json" "$OUT/micro-$name.unavailable"
  if ! "$@" >"$log" 2>&1; then
    { echo -n "failed: "; grep -Ev '^\s*$|^note: |^stack backtrace|^error: (bench|process didn)' "$log" \
        | tail -n 2 | tr '\n' ' ' | cut -c1-300; } >"$OUT/micro-$name.unavailable"
    log "micro-benchmark $name failed (see $log); the table will say so"
  fi
}
rm -f "$OUT"/micro-*.json "$OUT"/micro-*.unavailable
if [ "$MICRO" = 1 ]; then
  ABS_OUT=$PWD/$OUT  # cargo bench runs the harness in filter/
  log "micro-benchmarks${QUICK:+ (quick)}: native translation per provider"
  micro native "$OUT/micro-native.log" \
    cargo bench -q -p llm-gateway --bench translate -- $QUICK --json "$ABS_OUT/micro-native.json"
  log "micro-benchmarks: in the VM (wasmtime host, the release .wasm)"
  micro vm "$OUT/micro-vm.log" \
    cargo run -q --release -p wasm-host --features bench --bin wasm-bench -- \
      --wasm target/wasm32-wasip1/release/llm_gateway.wasm $QUICK --json "$ABS_OUT/micro-vm.json"
  log "micro-benchmarks: token estimation"
  micro estimate "$OUT/micro-estimate.log" \
    cargo run -q --release -p llm-gateway --example estimate_cost --features tiktoken \
      --target-dir target/tiktoken -- $QUICK --json "$ABS_OUT/micro-estimate.json"
  if [ -e "$OUT/micro-estimate.unavailable" ]; then  # without tiktoken, the cheap estimator alone
    micro estimate "$OUT/micro-estimate.log" \
      cargo run -q --release -p llm-gateway --example estimate_cost -- $QUICK --json "$ABS_OUT/micro-estimate.json"
  fi
fi

exec .venv/bin/python bench/bench.py "$@"
