"""A thin typed adapter around toxiproxy's HTTP API (the cluster stack starts the server
with NEMESIS_PROXY=1, deploy/local/lib/toxiproxy.sh): add and remove one toxic, disable and
enable a proxy, reset everything."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

TOXIC = "nemesis"  # one toxic per proxy at a time: the schedule keeps one fault per lane

# The proxies of each network lane (lib/toxiproxy.sh names them after the node behind).
PROXIES = {
    "net:postgres": ("pg-primary", "pg-standby"),
    "net:redis": tuple(f"redis-{i}" for i in range(1, 7)),
}


@dataclass(frozen=True, slots=True)
class Toxiproxy:
    url: str

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def add_toxic(self, proxy: str, kind: str, attributes: dict[str, int]) -> None:
        """Downstream (engine to service): what a service reads is delayed, throttled,
        stalled or reset; its writes still arrive, the answers do not."""
        body = {"name": TOXIC, "type": kind, "stream": "downstream", "toxicity": 1.0, "attributes": attributes}
        with self._client() as client:
            client.post(f"/proxies/{proxy}/toxics", json=body).raise_for_status()

    def remove_toxic(self, proxy: str) -> None:
        with self._client() as client:
            response = client.delete(f"/proxies/{proxy}/toxics/{TOXIC}")
            if response.status_code != 404:
                response.raise_for_status()

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        """Disabled: the listener closes and every open connection through it is cut."""
        with self._client() as client:
            client.post(f"/proxies/{proxy}", json={"enabled": enabled}).raise_for_status()

    def reset(self) -> None:
        """Every proxy enabled, every toxic removed."""
        with self._client() as client:
            client.post("/reset").raise_for_status()
