"""The category codes the benchmark's events carry: those of the catalogue the bench stack
runs with (seeds/targets.yaml), read with the product's own loader, so the load generators,
the pre-filled topic and the history send exactly the categories ingest accepts."""

from __future__ import annotations

from bench.config import SEED_CATALOGUE
from settlement_core.catalogue import Catalogue, load_catalogue


def seed_catalogue() -> Catalogue:
    return load_catalogue(SEED_CATALOGUE)


CATEGORY_CODES: tuple[str, ...] = tuple(c.code for c in seed_catalogue().categories)
