#!/usr/bin/env bash
# Prints the path of a toxiproxy v2.12.0 server binary, built once into ~/.cache
# (deploy/ensure-go-tool.sh).
set -euo pipefail
exec "$(dirname "$0")/../ensure-go-tool.sh" toxiproxy "${TOXIPROXY_VERSION:-v2.12.0}" \
  github.com/Shopify/toxiproxy/v2/cmd/server server
