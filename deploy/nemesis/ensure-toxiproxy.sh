#!/usr/bin/env bash
# Prints the path of a toxiproxy v2.12.0 server binary, building it with `go install` into a
# cache under $HOME on first use (like deploy/lint/ensure-helm.sh; later runs reuse it). The
# build goes to a temporary folder renamed into place at the end, so an interrupted build is
# never reused.
set -euo pipefail
TOXIPROXY_VERSION=${TOXIPROXY_VERSION:-v2.12.0}
CACHE=${SETTLEMENT_CACHE:-$HOME/.cache/settlement-tracker}
BIN_DIR=$CACHE/toxiproxy-$TOXIPROXY_VERSION
SERVER=$BIN_DIR/server

if [ -x "$SERVER" ]; then
  echo "$SERVER"
  exit 0
fi
command -v go >/dev/null || { echo "ensure-toxiproxy: go is required to build toxiproxy $TOXIPROXY_VERSION" >&2; exit 1; }
mkdir -p "$CACHE"
partial=$(mktemp -d "$CACHE/toxiproxy-$TOXIPROXY_VERSION.partial.XXXXXX")
trap 'rm -rf "$partial"' EXIT
echo "ensure-toxiproxy: building toxiproxy $TOXIPROXY_VERSION into $BIN_DIR (first run only)" >&2
GOBIN=$partial GOFLAGS=-buildvcs=false go install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" >&2
mv -T "$partial" "$BIN_DIR" 2>/dev/null && chmod 755 "$BIN_DIR" || true
trap - EXIT
rm -rf "$partial"
[ -x "$SERVER" ] || { echo "ensure-toxiproxy: build did not produce $SERVER" >&2; exit 1; }
echo "$SERVER"
