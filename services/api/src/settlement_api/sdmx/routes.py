"""SDMX REST: GET /v1/sdmx/data/{flow} (the figures of /v1/progress and their months as
SDMX-CSV 2.0 or SDMX-ML 2.1 structure-specific data) and GET /v1/sdmx/structure/...
(the dataflow, its data structure definition, code lists and concepts as SDMX-ML 2.1).

Who may read follows /v1/progress (deps.py): a key if one is sent, anonymous only in
public mode; disclosure control for everyone but operators (sdmx/cells.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from settlement_api.deps import CatalogueDep, DisclosureDep, EngineDep, FiguresDep, PublicReaderDep, SessionsDep
from settlement_api.kit.disclosure import Disclosure
from settlement_api.kit.known_at import figures_known_at
from settlement_api.releases.service import final_figures
from settlement_api.resources import Figures
from settlement_api.sdmx.cells import StatusOf
from settlement_api.sdmx.periods import PERIOD_FORMS
from settlement_api.sdmx.query import parse_data_query, require_flow, structure_format
from settlement_api.sdmx.render import data_message, structure_message
from settlement_api.sdmx.schemas import DATA_RESPONSES, KINDS, STRUCTURE_RESPONSES
from settlement_api.sdmx.service import export
from settlement_api.sdmx.structure import AGENCY, VERSION, ObsStatus, Structure, build_structure
from settlement_core.catalogue import Target
from settlement_core.problems import FieldError, Problem

router = APIRouter()

# The answer depends on the key (disclosure control) and on Accept.
HEADERS = {"Vary": "Accept, Authorization", "Cache-Control": "private, max-age=0, must-revalidate"}
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]
INSTANT = "RFC 3339 date-time with its zone, e.g. 2021-01-15T00:00:00Z"
# asOf/updatedAfter are knowledge-time reads (kit/known_at.py through service.py's
# `figures_at`), published in the OpenAPI document.
KNOWN_AT_READS = True


StartQ = Annotated[str | None, Query(alias="startPeriod", description=f"First period (SDMX: {PERIOD_FORMS})")]
EndQ = Annotated[
    str | None, Query(alias="endPeriod", description=f"Last period (SDMX: {PERIOD_FORMS}), not before startPeriod")
]
UpdatedAfterQ = Annotated[
    str | None,
    Query(
        alias="updatedAfter",
        description=f"Only observations changed after this instant ({INSTANT})",
        include_in_schema=KNOWN_AT_READS,
        json_schema_extra={"format": "date-time"},
    ),
]
AsOfQ = Annotated[
    str | None,
    Query(
        alias="asOf",
        description=f"The figures as they were known at this instant ({INSTANT})",
        include_in_schema=KNOWN_AT_READS,
        json_schema_extra={"format": "date-time"},
    ),
]


@dataclass(frozen=True, slots=True)
class Ledger:
    """The ledger a data query reads for knowledge times and releases."""

    engine: Engine
    sessions: sessionmaker[Session]


def _final_periods(sessions: sessionmaker[Session], periods: list[str], at: datetime | None) -> set[str]:
    with sessions() as session:
        return {p for p in periods if final_figures(session, p, at) is not None}


async def _status_of(ledger: Ledger, figures: Figures, at: datetime | None) -> StatusOf:
    """OBS_STATUS from the releases known at `at` (now when None): A (normal) for a target
    whose catalogue period has a final release, P (provisional) before it."""
    final = await asyncio.to_thread(_final_periods, ledger.sessions, list(figures.catalogue.periods), at)

    def status_of(target: Target, time_period: str) -> ObsStatus:
        del time_period  # a final release freezes the period's window and its months with it
        return ObsStatus.NORMAL if target.period in final else ObsStatus.PROVISIONAL

    return status_of


@dataclass(frozen=True, slots=True)
class DataRequest:
    """What a data query reads besides its flow and key: the figures, what the reader may
    see, the ledger (knowledge times, releases), Accept and the query parameters."""

    figures: Figures
    disclosure: Disclosure
    ledger: Ledger
    accept: str | None
    parameters: tuple[str | None, str | None, str | None, str | None]  # start, end, asOf, updatedAfter


def data_request(
    figures: FiguresDep,
    disclosure: DisclosureDep,
    engine: EngineDep,
    sessions: SessionsDep,
    accept: AcceptHeader = None,
    start_period: StartQ = None,
    end_period: EndQ = None,
    updated_after: UpdatedAfterQ = None,
    as_of: AsOfQ = None,
) -> DataRequest:
    return DataRequest(
        figures, disclosure, Ledger(engine, sessions), accept, (start_period, end_period, as_of, updated_after)
    )


DataRequestDep = Annotated[DataRequest, Depends(data_request)]


async def _data(flow: str, key: str | None, request: DataRequest) -> Response:
    figures, disclosure, ledger = request.figures, request.disclosure, request.ledger
    require_flow(flow)
    start_period, end_period, as_of, updated_after = request.parameters
    query = parse_data_query(start_period, end_period, as_of, updated_after, request.accept, key)

    async def figures_at(at: datetime) -> Figures:
        name = "asOf" if at == query.as_of else "updatedAfter"
        return await asyncio.to_thread(figures_known_at, figures, ledger.engine, at, name)

    status_of = await _status_of(ledger, figures, query.as_of)
    rows = await export(figures, query, disclosure, status_of, figures_at=figures_at)
    if not rows:
        raise Problem(404, "Not found", "No observation matches the query (SDMX: no results).", "no-results")
    # pysdmx takes 80-220 ms for the whole export (156 observations, CSV-XML, loaded machine):
    # off the event loop, which serves every other request meanwhile.
    message = await asyncio.to_thread(data_message, build_structure(figures.catalogue), rows, query.format)
    return Response(message.body, media_type=message.media_type, headers=HEADERS)


@router.get(
    "/v1/sdmx/data/{flow}",
    response_class=Response,
    responses=DATA_RESPONSES,
    summary="SDMX data: each target's window and months, as /v1/progress, with OBS_STATUS and CONF_STATUS",
    tags=["sdmx"],
)
async def get_data(flow: str, request: DataRequestDep) -> Response:
    return await _data(flow, None, request)


@router.get(
    "/v1/sdmx/data/{flow}/{key}",
    response_class=Response,
    responses=DATA_RESPONSES,
    summary="SDMX data of the series matching a key FREQ.TARGET.CURRENCY.UNIT (e.g. A.cross_border_rmb..UNITS)",
    tags=["sdmx"],
)
async def get_data_for_key(flow: str, key: str, request: DataRequestDep) -> Response:
    return await _data(flow, key, request)


def _artefacts(structure: Structure, kind: str) -> list[object]:
    if kind == "datastructure":  # with its children, as SDMX's references=children
        return [*structure.codelists, structure.concepts, structure.dsd]
    if kind == "dataflow":
        return [structure.dataflow]
    if kind == "codelist":
        return list(structure.codelists)
    if kind == "conceptscheme":
        return [structure.concepts]
    return [*structure.codelists, structure.concepts, structure.dsd, structure.dataflow]


async def _structure_response(
    catalogue: CatalogueDep, kind: str | None, accept: str | None, resource: str | None = None
) -> Response:
    if kind is not None and kind not in KINDS:
        raise Problem(
            404,
            "Not found",
            f"No structure type {kind!r}.",
            "not-found",
            [FieldError("#/path/kind", "one of: " + ", ".join(KINDS))],
        )
    media = structure_format(accept)
    artefacts = _artefacts(build_structure(catalogue), kind or "all")
    if resource is not None:
        artefacts = [a for a in artefacts if getattr(a, "id", None) == resource]
        if not artefacts:
            raise Problem(
                404, "Not found", f"No {kind} {resource!r}.", "not-found", [FieldError("#/path/resource", "unknown id")]
            )
    message = await asyncio.to_thread(structure_message, artefacts)
    return Response(message.body, media_type=media, headers={"Vary": "Accept"})


@router.get(
    "/v1/sdmx/structure",
    response_class=Response,
    responses=STRUCTURE_RESPONSES,
    summary="SDMX structure: the dataflow, its data structure definition, code lists and concepts",
    tags=["sdmx"],
)
async def get_structure(catalogue: CatalogueDep, reader: PublicReaderDep, accept: AcceptHeader = None) -> Response:
    del reader  # authorisation only: the structure holds no figure
    return await _structure_response(catalogue, None, accept)


@router.get(
    "/v1/sdmx/structure/{kind}",
    response_class=Response,
    responses=STRUCTURE_RESPONSES,
    summary="SDMX structures of one type: datastructure (with code lists, concepts), dataflow, codelist, conceptscheme",
    tags=["sdmx"],
)
async def get_structure_kind(
    kind: str, catalogue: CatalogueDep, reader: PublicReaderDep, accept: AcceptHeader = None
) -> Response:
    del reader
    return await _structure_response(catalogue, kind, accept)


@router.get(
    "/v1/sdmx/structure/{kind}/{agency}/{resource}",
    response_class=Response,
    responses=STRUCTURE_RESPONSES,
    summary="One SDMX artefact by agency and id (version " + VERSION + ")",
    tags=["sdmx"],
)
async def get_structure_artefact(
    kind: str, agency: str, resource: str, catalogue: CatalogueDep, reader: PublicReaderDep, accept: AcceptHeader = None
) -> Response:
    del reader
    if agency != AGENCY:
        raise Problem(
            404,
            "Not found",
            f"No agency {agency!r}; this API's is {AGENCY}.",
            "not-found",
            [FieldError("#/path/agency", f"only {AGENCY}")],
        )
    return await _structure_response(catalogue, kind, accept, resource)
