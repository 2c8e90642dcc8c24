#!/usr/bin/env bash
# Prints the path of a helm v3.22.0 binary, building it with `go install` into a cache under
# $HOME on first use (about 5 minutes on 2 cores; later runs reuse it). The build goes to a
# temporary folder renamed into place at the end, so an interrupted build is never reused.
set -euo pipefail
HELM_VERSION=${HELM_VERSION:-v3.22.0}
CACHE=${SETTLEMENT_CACHE:-$HOME/.cache/settlement-tracker}
BIN_DIR=$CACHE/helm-$HELM_VERSION
HELM=$BIN_DIR/helm

if [ -x "$HELM" ]; then
  echo "$HELM"
  exit 0
fi
command -v go >/dev/null || { echo "ensure-helm: go is required to build helm $HELM_VERSION" >&2; exit 1; }
mkdir -p "$CACHE"
partial=$(mktemp -d "$CACHE/helm-$HELM_VERSION.partial.XXXXXX")
trap 'rm -rf "$partial"' EXIT
echo "ensure-helm: building helm $HELM_VERSION into $BIN_DIR (first run only, a few minutes)" >&2
GOBIN=$partial GOFLAGS=-buildvcs=false go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
# Another run may have finished first: keep whichever landed.
mv -T "$partial" "$BIN_DIR" 2>/dev/null && chmod 755 "$BIN_DIR" || true
trap - EXIT
rm -rf "$partial"
[ -x "$HELM" ] || { echo "ensure-helm: build did not produce $HELM" >&2; exit 1; }
echo "$HELM"
