#!/usr/bin/env bash
# ensure-go-tool.sh NAME VERSION PACKAGE BINARY: prints the path of BINARY of PACKAGE@VERSION,
# building it with `go install` into a cache under $HOME on first use (helm takes about
# 5 minutes on 2 cores; later runs reuse it). The build goes to a temporary folder renamed
# into place at the end, so an interrupted build is never reused. The one home of "a pinned Go
# tool, built once": deploy/lint/ensure-helm.sh and deploy/nemesis/ensure-toxiproxy.sh name theirs.
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: ensure-go-tool.sh NAME VERSION PACKAGE BINARY" >&2; exit 2; }
NAME=$1 VERSION=$2 PACKAGE=$3 BINARY=$4
CACHE=${SETTLEMENT_CACHE:-$HOME/.cache/settlement-tracker}
BIN_DIR=$CACHE/$NAME-$VERSION
TOOL=$BIN_DIR/$BINARY

if [ -x "$TOOL" ]; then
  echo "$TOOL"
  exit 0
fi
command -v go >/dev/null || { echo "ensure-$NAME: go is required to build $NAME $VERSION" >&2; exit 1; }
mkdir -p "$CACHE"
partial=$(mktemp -d "$CACHE/$NAME-$VERSION.partial.XXXXXX")
trap 'rm -rf "$partial"' EXIT
echo "ensure-$NAME: building $NAME $VERSION into $BIN_DIR (first run only, a few minutes)" >&2
GOBIN=$partial GOFLAGS=-buildvcs=false go install "$PACKAGE@$VERSION" >&2
# Another run may have finished first: keep whichever landed.
mv -T "$partial" "$BIN_DIR" 2>/dev/null && chmod 755 "$BIN_DIR" || true
trap - EXIT
rm -rf "$partial"
[ -x "$TOOL" ] || { echo "ensure-$NAME: build did not produce $TOOL" >&2; exit 1; }
echo "$TOOL"
