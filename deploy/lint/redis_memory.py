"""Redis (or Valkey) bounded in memory without ever evicting a key.

Redis holds the totals and the per-partition fences; an evicted key would silently lose a
count or let a stale writer through. So `maxmemory` is set and `maxmemory-policy` is
`noeviction`: at the limit writes fail loudly instead.
"""

from __future__ import annotations

from deploy.lint.findings import Finding

IMAGES = ("redis", "valkey/valkey", "docker.io/redis", "docker.io/valkey/valkey", "bitnami/redis", "bitnami/valkey")


def is_redis_image(image: str) -> bool:
    return image.split(":", 1)[0] in IMAGES


def _option(args: list[str], name: str) -> str | None:
    for index, arg in enumerate(args):
        if arg == f"--{name}" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return None


def args_findings(where: str, args: list[str]) -> list[Finding]:
    """`args`: the server's command line (redis-server/valkey-server options)."""
    findings: list[Finding] = []
    limit = _option(args, "maxmemory")
    if limit is None or limit.strip() in ("0", ""):
        findings.append(Finding(where, "Redis has no --maxmemory: its memory is unbounded"))
    policy = _option(args, "maxmemory-policy")
    if policy != "noeviction":
        findings.append(
            Finding(where, f"--maxmemory-policy is {policy or 'not set'}, want noeviction: totals must stay")
        )
    return findings
