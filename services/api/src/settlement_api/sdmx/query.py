"""What an SDMX request asks for (pure): the flow, the period filter, the knowledge times
(`asOf`, `updatedAfter`) and the format chosen from Accept. Every bad parameter of a
request is reported at once (kit/query.py), with a pointer; an Accept that names nothing
on offer is a 406 listing what is."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from settlement_api.kit.query import QueryErrors
from settlement_api.sdmx.periods import PeriodError, parse_period
from settlement_api.sdmx.render import STRUCTURE_MEDIA, DataFormat
from settlement_api.sdmx.structure import AGENCY, DIMENSIONS, FLOW_ID, VERSION
from settlement_core.problems import FieldError, Problem

# RFC 3339 with a zone (SDMX's xs:dateTime; a time without its zone names no instant).
_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})")
# SDMX REST flow references: ID, AGENCY,ID or AGENCY,ID,VERSION (latest/~ for the version).
FLOW_REFS = frozenset({FLOW_ID, f"{AGENCY},{FLOW_ID}", *(f"{AGENCY},{FLOW_ID},{v}" for v in (VERSION, "latest", "~"))})


# An SDMX series key: one part per dimension before TIME_PERIOD (FREQ.TARGET.CURRENCY.UNIT),
# each empty (any code) or codes joined by "+"; "all" is every series.
KEY_DIMENSIONS = len(DIMENSIONS) - 1
_KEY_PART = re.compile(r"([A-Za-z0-9_@$-]+(\+[A-Za-z0-9_@$-]+)*)?")
SeriesKey = tuple[frozenset[str] | None, ...]  # None: any code in that dimension
ALL_SERIES: SeriesKey = (None,) * KEY_DIMENSIONS


@dataclass(frozen=True, slots=True)
class DataQuery:
    key: SeriesKey
    start: date | None  # first day of startPeriod
    end: date | None  # last day of endPeriod
    as_of: datetime | None  # SDMX asOf: the figures as they were known then (known_at)
    updated_after: datetime | None  # only observations that changed after this instant
    format: DataFormat


def require_flow(flow: str) -> None:
    if flow not in FLOW_REFS:
        raise Problem(
            404,
            "Not found",
            f"No dataflow {flow!r}; this API offers {FLOW_ID} ({AGENCY},{FLOW_ID},{VERSION}).",
            "not-found",
            [FieldError("#/path/flow", f"unknown dataflow; one of: {', '.join(sorted(FLOW_REFS))}")],
        )


def _instant(errors: QueryErrors, name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    if not _INSTANT.fullmatch(text):
        errors.add(name, f"{text!r} is not an RFC 3339 date-time with a zone, e.g. 2021-01-15T00:00:00Z")
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        errors.add(name, f"{text!r} is not a valid date-time")
        return None


def parse_key(text: str | None) -> SeriesKey:
    """The series key of /v1/sdmx/data/{flow}/{key}; a malformed one is a 422 problem.
    Codes are not checked against the code lists: an unknown one matches nothing, and a
    query matching nothing is SDMX's "no results" (404)."""
    if text is None or text == "all":
        return ALL_SERIES
    parts = text.split(".")
    if len(parts) != KEY_DIMENSIONS or not all(_KEY_PART.fullmatch(p) for p in parts):
        raise Problem(
            422,
            "Invalid key",
            f"{text!r} is not a series key: {'.'.join(DIMENSIONS[:-1])}, each part empty or codes joined by +",
            "invalid-key",
            [FieldError("#/path/key", f"{KEY_DIMENSIONS} dot-separated parts, e.g. A.cross_border_rmb..UNITS, or all")],
        )
    return tuple(frozenset(p.split("+")) if p else None for p in parts)


def parse_data_query(
    start_period: str | None,
    end_period: str | None,
    as_of: str | None,
    updated_after: str | None,
    accept: str | None,
    key: str | None = None,
) -> DataQuery:
    series = parse_key(key)
    errors = QueryErrors()
    start = end = None
    for name, text in (("startPeriod", start_period), ("endPeriod", end_period)):
        if text is None:
            continue
        try:
            span = parse_period(text)
        except PeriodError as exc:
            errors.add(name, str(exc))
            continue
        if name == "startPeriod":
            start = span.start
        else:
            end = span.end
    if start is not None and end is not None and end < start:
        errors.add("endPeriod", "ends before startPeriod begins")
    known_at = _instant(errors, "asOf", as_of)
    after = _instant(errors, "updatedAfter", updated_after)
    errors.raise_if_any()
    chosen = DataFormat(choose(accept, [f.value for f in DataFormat], DataFormat.CSV.value))
    return DataQuery(series, start, end, known_at, after, chosen)


@dataclass(frozen=True, slots=True)
class MediaRange:
    type: str  # e.g. application/vnd.sdmx.data+csv, application/*, */*
    version: str | None
    q: float


def media_ranges(accept: str) -> list[MediaRange]:
    """The ranges of an Accept header, most preferred first (q, then order); q=0 dropped.
    Malformed parts are ignored, as RFC 9110 lets a server do."""
    found: list[MediaRange] = []
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces[0] or "/" not in pieces[0]:
            continue
        params = dict(p.split("=", 1) for p in pieces[1:] if "=" in p)
        params = {k.strip().lower(): v.strip().strip('"') for k, v in params.items()}
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            continue
        if q > 0:
            found.append(MediaRange(pieces[0].lower(), params.get("version"), q))
    return sorted(found, key=lambda r: -r.q)


def _version(text: str) -> str:
    """2.0.0, 2.0 and 2 name one version; 2.1 and 2.1.0 another."""
    parts = text.split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts)


def _matches(offer: str, wanted: MediaRange) -> bool:
    kind, _, rest = offer.partition(";")
    version = rest.partition("version=")[2]
    if wanted.type == "*/*":
        return True
    if wanted.type.endswith("/*"):
        return kind.startswith(wanted.type[:-1])
    return kind == wanted.type and (wanted.version is None or _version(wanted.version) == _version(version))


def choose(accept: str | None, offers: Sequence[str], default: str) -> str:
    """The first offer the Accept header takes, `default` without one; 406 otherwise."""
    if accept is None or not accept.strip():
        return default
    for wanted in media_ranges(accept):
        if wanted.type in ("*/*", "application/*") and default in offers:
            return default
        for offer in offers:
            if _matches(offer, wanted):
                return offer
    raise Problem(
        406,
        "Not acceptable",
        "Accept names no format on offer; ask for one of: " + ", ".join(offers),
        "not-acceptable",
        [FieldError("#/header/accept", "one of: " + ", ".join(offers))],
    )


def structure_format(accept: str | None) -> str:
    return choose(accept, [STRUCTURE_MEDIA, "application/xml"], STRUCTURE_MEDIA)
