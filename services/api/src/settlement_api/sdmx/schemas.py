"""The SDMX routes' documented answers: the SDMX media types, and the problem+json
statuses the shared table (settlement_core.problems) does not describe (406, 501)."""

from __future__ import annotations

from typing import Any

from settlement_api.sdmx.render import STRUCTURE_MEDIA, DataFormat
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
