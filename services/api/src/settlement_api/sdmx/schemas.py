"""The SDMX routes' document: the SDMX media types, the problem+json statuses the shared
table (settlement_core.problems) does not describe (406, 501), and the rules of the
hand-parsed parameters (openapi.py publishes them, as for the other routes).

The period pattern leaves out the day form (2020-01-15, accepted): a pattern cannot refuse
2019-02-29. asOf and updatedAfter are left out of the document (`include_in_schema=False`
in routes.py) while they answer 501: a document lists what works."""

from __future__ import annotations

from typing import Any

from settlement_api.sdmx.query import FLOW_REFS, KEY_DIMENSIONS
from settlement_api.sdmx.render import STRUCTURE_MEDIA, DataFormat
from settlement_api.sdmx.structure import AGENCY
from settlement_core.problems import PROBLEM_JSON, PROBLEM_SCHEMA_NAME, problem_responses

_PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"}}}
_TEXT = {"schema": {"type": "string"}}

DATA_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "SDMX-CSV 2.0 (default), or SDMX-ML 2.1 structure-specific data when Accept asks for it",
        "content": {f.value: _TEXT for f in DataFormat},
    },
    **problem_responses(401, 404, 422),
    406: {"description": "Accept names no format on offer", "content": _PROBLEM},
    501: {"description": "asOf / updatedAfter need knowledge-time reads, not offered yet", "content": _PROBLEM},
}
STRUCTURE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "SDMX-ML 2.1 structure message",
        "content": {STRUCTURE_MEDIA: _TEXT, "application/xml": _TEXT},
    },
    **problem_responses(401, 404),
    406: {"description": "Accept names no format on offer", "content": _PROBLEM},
}

_CODE = "[A-Za-z0-9_@$-]+"
_KEY_PART = f"({_CODE}(\\+{_CODE})*)?"
# Years 0001-9999: the parser refuses 0000.
_YEAR = "([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
PERIOD: dict[str, Any] = {"type": "string", "pattern": f"^{_YEAR}(-S[12]|-Q[1-4]|-(0[1-9]|1[0-2]))?$"}
KINDS = ("datastructure", "dataflow", "codelist", "conceptscheme")
QUERY_RULES: dict[str, dict[str, Any]] = {"startPeriod": PERIOD, "endPeriod": PERIOD}
PATH_RULES: dict[str, dict[str, Any]] = {
    "flow": {"type": "string", "enum": sorted(FLOW_REFS)},
    "kind": {"type": "string", "enum": list(KINDS)},
    "agency": {"type": "string", "enum": [AGENCY]},
    "resource": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{0,63}$"},
    "key": {"type": "string", "pattern": f"^(all|{_KEY_PART}(\\.{_KEY_PART}){{{KEY_DIMENSIONS - 1}}})$"},
}
# Valid values, for the document's readers and schemathesis' example phase.
EXAMPLES: dict[str, str] = {
    "flow": "SETTLEMENT_PROGRESS",
    "startPeriod": "2020",
    "endPeriod": "2020-Q4",
    "kind": "codelist",
    "agency": AGENCY,
    "resource": "CL_CONF_STATUS",
    "key": "A.cross_border_rmb..UNITS",
}
