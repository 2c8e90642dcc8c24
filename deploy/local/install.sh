#!/usr/bin/env bash
# One-time machine set-up, safe to repeat: Debian packages, uv, the virtualenv, Kafka jars.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
die() { echo "install: $*" >&2; exit 1; }

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
command -v prometheus >/dev/null || missing+=(prometheus)
command -v promtool >/dev/null || missing+=(prometheus)
command -v chromium >/dev/null || missing+=(chromium)
command -v curl >/dev/null || missing+=(curl)
# npm installs the status page's chart library (Apache ECharts) from the project's own lock.
command -v npm >/dev/null || missing+=(npm)
# A CJK font, so the status page screenshots show 亿元 instead of boxes.
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "apt-get not found; install ${missing[*]} by hand"
  [ "$(id -u)" = 0 ] || die "need root to apt-get install ${missing[*]}"
  echo "install: apt-get install ${missing[*]}" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  # Debian starts its own copies; the project runs its own processes on its own data.
  for svc in redis-server postgresql prometheus prometheus-node-exporter; do
    (service "$svc" stop >/dev/null 2>&1 || true)
  done
fi
command -v java >/dev/null || die "java not found: install a JDK 17+ (apt-get install -y openjdk-17-jdk-headless)"
# javac: the benchmark's HTTP->Kafka bridge peer is one Java class compiled on first use.
command -v javac >/dev/null || die "javac not found: install a JDK, not only a JRE (apt-get install -y openjdk-17-jdk-headless)"
command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install -y maven)"
if ! command -v uv >/dev/null; then
  python3 -m pip install -q uv || die "could not install uv with pip"
fi
cd "$ROOT"
uv sync --frozen -q
"$ROOT/deploy/local/web_vendor.sh"
"$ROOT/deploy/local/stack.sh" fetch
