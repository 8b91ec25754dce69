#!/usr/bin/env bash
# Release artifacts: the optimised .wasm (and the tiktoken variant) named with the crate's
# version, their sha256, LICENSE, CHANGELOG.md, and an OCI image in Istio's Wasm image format.
#
#   packaging/package.sh [--out DIR] [--push REGISTRY/REPO:TAG] [--tls-verify=false] [--quick]
#
# --quick skips the tiktoken variant (CI); PACKAGE_NO_IMAGE=1 skips the image. The build is reproducible: build paths are remapped,
# so the same commit gives the same bytes wherever it is checked out (README: Deploy, release artifacts).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/dist
PUSH=
TLS_VERIFY=true
QUICK=
TARGET_DIR=${PACKAGE_TARGET_DIR:-$ROOT/target/package}
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$(realpath -m "$2"); shift 2 ;;
    --push) PUSH=$2; shift 2 ;;
    --tls-verify=false) TLS_VERIFY=false; shift ;;
    --quick) QUICK=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
need() { command -v "$1" >/dev/null || { echo "$1 is required (Debian package: $2)" >&2; exit 1; }; }
need wasm-opt binaryen
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}  # with cyclonedx-python-lib (build.sh setup installs it)

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
CARGO_HOME_DIR=${CARGO_HOME:-$HOME/.cargo}
# Paths that would otherwise end up in the binary (panic locations of dependencies and of
# our own code) are remapped, so the bytes do not depend on where the tree was checked out.
export RUSTFLAGS="--remap-path-prefix=$ROOT=/build --remap-path-prefix=$CARGO_HOME_DIR=/cargo --remap-path-prefix=$TARGET_DIR=/target"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}

# The features rustc's wasm32-wasip1 target emits; binaryen must be told (the stripped module
# carries no target_features section) or it refuses bulk-memory instructions.
WASM_OPT_FEATURES=(--enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int
  --enable-mutable-globals --enable-multivalue --enable-reference-types)

build_one() { # name cargo-args...
  local name=$1; shift
  log "building $name ($VERSION)"
  cargo build --locked --release --target wasm32-wasip1 -p llm-gateway --target-dir "$TARGET_DIR" "$@"
  wasm-opt -O2 "${WASM_OPT_FEATURES[@]}" "$TARGET_DIR/wasm32-wasip1/release/llm_gateway.wasm" -o "$OUT/$name"
  (cd "$OUT" && sha256sum "$name" >"$name.sha256")
  # The crates compiled into it, as a CycloneDX SBOM beside it.
  "$PYTHON" packaging/sbom.py "$OUT/${name%.wasm}.cdx.json" --wasm "$OUT/$name" "$@"
}

rm -rf "$OUT" && mkdir -p "$OUT"
build_one "llm-gateway-$VERSION.wasm"
if [ -z "$QUICK" ]; then
  build_one "llm-gateway-tiktoken-$VERSION.wasm" --features tiktoken
fi
cp LICENSE CHANGELOG.md "$OUT/"

# Istio's Wasm image, compat variant: an image from scratch with one layer that holds
# /plugin.wasm. buildah needs no daemon; vfs storage and chroot isolation work unprivileged.
if [ -n "${PACKAGE_NO_IMAGE:-}" ]; then
  :
elif command -v buildah >/dev/null; then
  log "building the OCI image"
  export BUILDAH_ISOLATION=chroot STORAGE_DRIVER=vfs
  stage=$(mktemp -d)
  cp "$OUT/llm-gateway-$VERSION.wasm" "$stage/plugin.wasm"
  touch -d "@$SOURCE_DATE_EPOCH" "$stage/plugin.wasm"
  ctr=$(buildah from scratch)
  trap 'buildah rm "$ctr" >/dev/null 2>&1 || true; rm -rf "$stage"' EXIT
  buildah copy "$ctr" "$stage/plugin.wasm" /plugin.wasm >/dev/null
  buildah config \
    --annotation "org.opencontainers.image.title=llm-gateway" \
    --annotation "org.opencontainers.image.version=$VERSION" \
    --annotation "org.opencontainers.image.licenses=Apache-2.0" "$ctr"
  image=localhost/llm-gateway:$VERSION
  buildah commit --quiet --format oci --timestamp "$SOURCE_DATE_EPOCH" "$ctr" "$image" >/dev/null
  rm -f "$OUT/llm-gateway-$VERSION.oci.tar"
  buildah push --quiet "$image" "oci-archive:$OUT/llm-gateway-$VERSION.oci.tar:$VERSION"
  if [ -n "$PUSH" ]; then
    log "pushing $PUSH"
    buildah push --quiet --tls-verify="$TLS_VERIFY" "$image" "docker://$PUSH"
  fi
else
  echo "buildah not found: no OCI image (Debian package: buildah)" >&2
fi
ls -l "$OUT" >&2
