#!/usr/bin/env bash
# Builds the executables and packs them with nfpm.yaml into dist/:
#   iofog-connector_<version>_amd64.deb, iofog-connector_<version>_arm64.deb,
#   iofog-connector-<version>-1.x86_64.rpm, iofog-connector-<version>-1.aarch64.rpm
# Usage: scripts/package.sh [--skip-build] [--out DIR] [deb|rpm]... [amd64|arm64]...
#   (no format or architecture named: all of them; --skip-build: use the executables in
#   dist/ as they are; --out: where the packages go, default dist/)
# The man page, changelogs (from CHANGELOG.md) and Debian copyright file are generated here.
# IOFOG_CONNECTOR_SIGNING_KEY=FILE (an ASCII-armored OpenPGP secret key; its passphrase, if
# any, in NFPM_PASSPHRASE) signs every package; without it they are unsigned.
# nfpm is installed with `go install` at the pinned version when it is missing;
# NFPM=/path/to/nfpm uses another one.
set -euo pipefail
cd "$(dirname "$0")/.."

# The newest v2 that installs: v2.46.0 and later need go.digitalxero.dev modules that
# the Go module proxy refuses to serve.
NFPM_VERSION=v2.45.2
cache="${XDG_CACHE_HOME:-$HOME/.cache}/iofog-connector"

usage="usage: $0 [--skip-build] [--out DIR] [deb|rpm]... [amd64|arm64]..."
formats=()
arches=()
build=yes
out=dist
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-build) build=no ;;
    --out)
      [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
      out=$2
      shift
      ;;
    deb | rpm) formats+=("$1") ;;
    amd64 | arm64) arches+=("$1") ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
  shift
done
[ ${#formats[@]} -gt 0 ] || formats=(deb rpm)
[ ${#arches[@]} -gt 0 ] || arches=(amd64 arm64)

nfpm="${NFPM:-$cache/nfpm-$NFPM_VERSION/nfpm}"
if [ ! -x "$nfpm" ]; then
  if ! command -v go >/dev/null; then
    echo "nfpm is missing and Go is not installed to build it (go install github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION)." >&2
    exit 1
  fi
  echo "Installing nfpm $NFPM_VERSION into $(dirname "$nfpm")"
  GOBIN="$(dirname "$nfpm")" GOFLAGS=-mod=mod go install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION"
fi

bun=node_modules/.bin/bun
[ -x "$bun" ] || bun=bun
if [ "$build" = yes ]; then
  "$bun" scripts/build.ts
fi

VERSION=$("$bun" -e 'console.log(require("./package.json").version)')
export VERSION
mkdir -p dist "$out"

export IOFOG_CONNECTOR_SIGNING_KEY="${IOFOG_CONNECTOR_SIGNING_KEY:-}"
if [ -n "$IOFOG_CONNECTOR_SIGNING_KEY" ]; then
  if [ ! -r "$IOFOG_CONNECTOR_SIGNING_KEY" ]; then
    echo "IOFOG_CONNECTOR_SIGNING_KEY names $IOFOG_CONNECTOR_SIGNING_KEY, which cannot be read." >&2
    exit 1
  fi
  IOFOG_CONNECTOR_SIGNING_KEY=$(realpath "$IOFOG_CONNECTOR_SIGNING_KEY")
  echo "Signing with $IOFOG_CONNECTOR_SIGNING_KEY"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# What nfpm.yaml takes from $GENERATED: compressed as dpkg and rpm tools expect (gzip -n:
# no name or time inside, the same bytes on every build).
export GENERATED="$work/generated"
mkdir "$GENERATED"
"$bun" scripts/changelog.ts --version "$VERSION" --release 1 --deb "$GENERATED/changelog" --rpm "$GENERATED/changelog.json"
gzip -9n "$GENERATED/changelog"
gzip -9n <packaging/iofog-connector.8 >"$GENERATED/iofog-connector.8.gz"
cat packaging/copyright LICENSE >"$GENERATED/copyright"
# The rpm's %changelog; the .deb has its own changelog.gz.
{ cat nfpm.yaml; echo "changelog: $GENERATED/changelog.json"; } >"$GENERATED/nfpm-rpm.yaml"

# Packing is mostly compression on one core each: all at once, each into its own
# directory (nfpm names the file), then report every failure.
pids=()
names=()
for arch in "${arches[@]}"; do
  case "$arch" in amd64) bun_arch=x64 ;; arm64) bun_arch=arm64 ;; esac
  if [ ! -f "dist/iofog-connector-linux-$bun_arch" ]; then
    echo "dist/iofog-connector-linux-$bun_arch is missing (run bun scripts/build.ts)." >&2
    exit 1
  fi
  for format in "${formats[@]}"; do
    mkdir "$work/$format-$arch"
    config=nfpm.yaml
    [ "$format" = deb ] || config="$GENERATED/nfpm-rpm.yaml"
    ARCH=$arch BUN_ARCH=$bun_arch "$nfpm" package --config "$config" --packager "$format" --target "$work/$format-$arch/" >/dev/null &
    pids+=($!)
    names+=("$format-$arch")
  done
done
status=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "Packing ${names[$i]} failed." >&2
    status=1
  fi
done
[ "$status" -eq 0 ] || exit 1

for name in "${names[@]}"; do
  for file in "$work/$name"/*; do
    mv -f "$file" "$out/"
    echo "$out/$(basename "$file") ($(du -h "$out/$(basename "$file")" | cut -f1))"
  done
done
