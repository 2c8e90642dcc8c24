#!/usr/bin/env bash
# Prints the path of a helm v3.22.0 binary, built once into ~/.cache (deploy/ensure-go-tool.sh).
set -euo pipefail
exec "$(dirname "$0")/../ensure-go-tool.sh" helm "${HELM_VERSION:-v3.22.0}" helm.sh/helm/v3/cmd/helm helm
