#!/usr/bin/env bash
# curl against the demo gateway (run `./build.sh demo` first).
set -euo pipefail
GW=${GW:-http://localhost:10000}
curl -s "$GW/v1/chat/completions" -H 'content-type: application/json' \
  -d '{"model":"claude-sonnet","messages":[{"role":"user","content":"Hello!"}]}'
echo
curl -sN "$GW/v1/chat/completions" -H 'content-type: application/json' \
  -d '{"model":"smart","stream":true,"messages":[{"role":"user","content":"Stream please"}]}'
curl -s "$GW/v1/models"
echo
