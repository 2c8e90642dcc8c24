#!/usr/bin/env bash
# The status page's browser libraries, installed from the project's own package-lock.json
# (pinned versions with sha512 integrity, checked by `npm ci`) into a cache outside the work
# tree, keyed by the lock's hash; only the minified dist file the page loads is copied next to
# the lock, where the API serves it (web/routes.py; the wheel and the image carry it too).
# echarts.common.min.js has all the page uses (line, bar, tooltip, toolbox, markLine) in
# 715 KB against 1.1 MB for echarts.min.js. Never a CDN. Safe to repeat: with the cache warm
# this compares one file (0.02 s); a cold `npm ci` of echarts 6.1.0 took 3 s here.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENDOR="$ROOT/services/api/src/settlement_api/web/vendor"
DIST=node_modules/echarts/dist/echarts.common.min.js
die() { echo "web_vendor: $*" >&2; exit 1; }

command -v npm >/dev/null || die "npm not found: apt-get install -y npm (make install does)"
lock_hash="$(cat "$VENDOR/package.json" "$VENDOR/package-lock.json" | sha256sum | cut -c1-16)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/settlement-tracker/web-vendor-$lock_hash"
if [ ! -s "$cache/$DIST" ]; then
  rm -rf "$cache.tmp" && mkdir -p "$cache.tmp"
  cp "$VENDOR/package.json" "$VENDOR/package-lock.json" "$cache.tmp/"
  # --ignore-scripts: no install hook of any package runs on this machine.
  (cd "$cache.tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) ||
    die "npm ci failed in $cache.tmp"
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
fi
cmp -s "$cache/$DIST" "$VENDOR/$(basename "$DIST")" || cp "$cache/$DIST" "$VENDOR/"
