"""The API's OpenAPI document, with parameter rules from the constants the parsers use.

Query parameters are parsed by hand (`kit/query.py`, `totals/service.py`) so that every bad
parameter is reported at once with a pointer; FastAPI therefore only knows them as optional
strings. This module publishes what the parsers accept: enums for category, granularity and
currency, RFC 3339 dates, the id patterns. Rules between parameters (`from` not after `to`,
at most N points per granularity) cannot be said in OpenAPI; the descriptions state them.
In public mode the market-wide reads accept anonymous callers, and the document says so.

The rules below replace only the schema of a hand-parsed parameter (one FastAPI knows as a
string). A parameter a route declares with a type of its own keeps that schema: the log's
`GET /v1/log/consistency?from=N&to=M` takes tree sizes (integers), not dates.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from settlement_api.sdmx.schemas import EXAMPLES as SDMX_EXAMPLES
from settlement_api.sdmx.schemas import PATH_RULES as SDMX_PATH
from settlement_api.sdmx.schemas import QUERY_RULES as SDMX_QUERY
from settlement_api.settings import ApiSettings
from settlement_core.buckets import Granularity
from settlement_core.catalogue import Catalogue
from settlement_core.identifiers import BANK_ID_PATTERN, EVENT_ID_PATTERN
from settlement_core.money import MINOR_UNITS
from settlement_core.problems import install_problem_schema, problem_responses

DATE: dict[str, Any] = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
QUERY: dict[str, dict[str, Any]] = {
    "granularity": {"type": "string", "enum": [g.value for g in Granularity]},
    "from": DATE,
    "to": DATE,
    "as_of": DATE,
    "currency": {"type": "string", "enum": sorted(MINOR_UNITS)},
    "bank_id": {"type": "string", "pattern": BANK_ID_PATTERN.pattern},
    **SDMX_QUERY,
}
PATH: dict[str, dict[str, Any]] = {
    "event_id": {"type": "string", "pattern": EVENT_ID_PATTERN.pattern},
    "bank_id": {"type": "string", "pattern": BANK_ID_PATTERN.pattern},
    **SDMX_PATH,
}
# Valid values (tests/contract posts them); ids are per bank, so they have none.
EXAMPLES: dict[str, str] = {
    "category": "cross_border_rmb",
    "granularity": "month",
    "from": "2020-01-01",
    "to": "2020-06-30",
    "as_of": "2020-06-30",
    "currency": "CNY",
    "event_id": "CQB-2026-000123",
    "code": "cross_border_rmb",
    **SDMX_EXAMPLES,
}
# Readable without a key when PUBLIC_MODE is on (security.py).
PUBLIC_PATHS = (
    "/v1/targets",
    "/v1/progress",
    "/v1/progress/{code}/series",
    "/v1/sdmx/data/{flow}",
    "/v1/sdmx/data/{flow}/{key}",
    "/v1/sdmx/structure",
    "/v1/sdmx/structure/{kind}",
    "/v1/sdmx/structure/{kind}/{agency}/{resource}",
    "/v1/releases",
    "/v1/releases/{release_id}",
    "/v1/releases/{release_id}/revisions",
)


_BANK_TOTALS = "get_bank_totals_v1_banks__bank_id__totals_get"
# Where a reader goes next (also walked by schemathesis' stateful phase).
LINKS: dict[str, dict[str, dict[str, Any]]] = {
    "/v1/targets": {
        "TotalsOfFirstTarget": {
            "operationId": "get_totals_v1_totals_get",
            "parameters": {"query.category": "$response.body#/targets/0/code"},
        },
        "ProgressOfTargets": {"operationId": "get_progress_v1_progress_get"},
    },
    "/v1/totals": {
        "SameBankTotals": {
            "operationId": _BANK_TOTALS,
            "parameters": {"path.bank_id": "$response.body#/bank_id", "query.category": "$request.query.category"},
        }
    },
    "/v1/releases": {
        "FirstRelease": {
            "operationId": "get_one_v1_releases__release_id__get",
            "parameters": {"path.release_id": "$response.body#/releases/0/id"},
        },
        "RevisionsOfFirstRelease": {
            "operationId": "get_revisions_v1_releases__release_id__revisions_get",
            "parameters": {"path.release_id": "$response.body#/releases/0/id"},
        },
    },
    "/v1/events/{event_id}": {
        "TotalsOfTheEventsBank": {
            "operationId": _BANK_TOTALS,
            "parameters": {"path.bank_id": "$response.body#/bank_id"},
        }
    },
}


def _add_links(document: dict[str, Any]) -> None:
    for path, links in LINKS.items():
        document["paths"][path]["get"]["responses"]["200"]["links"] = links


def catalogue_rules(catalogue: Catalogue) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """Parameter rules that come from the catalogue, per (path, location); "*" is every path."""
    codes = sorted({t.code for t in catalogue.targets} | {c.code for c in catalogue.categories})
    years = sorted({str(t.window_start.year) for t in catalogue.targets})
    targets = sorted({t.code for t in catalogue.targets})
    return {
        ("*", "query"): {"category": {"type": "string", "enum": codes}},
        ("/v1/progress", "query"): {"period": {"type": "string", "enum": list(catalogue.periods)}},
        ("/v1/progress/{code}/series", "path"): {"code": {"type": "string", "enum": targets}},
        ("/v1/progress/{code}/series", "query"): {
            "period": {"type": "string", "enum": years},
            # The series has no yearly points: one point per year would be the progress figure.
            "granularity": {"type": "string", "enum": [Granularity.DAY.value, Granularity.MONTH.value]},
        },
        ("/v1/report", "query"): {
            "period": {"type": "string", "enum": years},
            "format": {"type": "string", "enum": ["xlsx", "csv"]},
        },
    }


def _hand_parsed(schema: dict[str, Any]) -> bool:
    """True for FastAPI's schema of `str` or `str | None`: the route parses the value itself."""
    types = {s.get("type") for s in schema.get("anyOf", [schema])}
    return types <= {"string", "null"}


def _declaration_sets(document: dict[str, Any], settings: ApiSettings | None, catalogue: Catalogue | None) -> None:
    """A control-total line's target and currency are checked against the catalogue and the
    intake's currencies (control_totals/service.py); the document lists them."""
    line = document.get("components", {}).get("schemas", {}).get("LineIn")
    if line is None:
        return
    if catalogue is not None:
        line["properties"]["target"]["enum"] = sorted(catalogue.codes)
    if settings is not None:
        line["properties"]["currency"]["enum"] = sorted(settings.accepted_currencies)


def build(app: FastAPI, settings: ApiSettings | None, catalogue: Catalogue | None = None) -> dict[str, Any]:
    document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    from_catalogue = catalogue_rules(catalogue) if catalogue is not None else {}
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                where = parameter["in"]
                rules = {
                    **{"query": QUERY, "path": PATH}.get(where, {}),
                    **from_catalogue.get(("*", where), {}),
                    **from_catalogue.get((path, where), {}),
                }
                if parameter["name"] in rules and _hand_parsed(parameter.get("schema", {})):
                    parameter["schema"] = dict(rules[parameter["name"]])
                    if parameter["name"] in EXAMPLES:
                        parameter["example"] = EXAMPLES[parameter["name"]]
            if settings is not None and settings.public_mode and path in PUBLIC_PATHS:
                operation["security"] = [{"bearer": []}, {}]
            # Every read is rate limited (rate_limit.py, anonymous.py).
            operation.setdefault("responses", {}).setdefault("429", problem_responses(429)[429])
    _add_links(document)
    _declaration_sets(document, settings, catalogue)
    install_problem_schema(document)
    document["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    document["security"] = [{"bearer": []}]
    return document
