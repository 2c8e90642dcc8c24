"""FastAPI dependencies as Annotated aliases (the full-stack-fastapi-template style).

Routes declare the resources they use (`FiguresDep` for the figure reads, the sessions, the
settings, ...) and hand exactly those to their services; only the dependencies here see
`Resources`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from settlement_api.control_totals.reconcile import Reconciler
from settlement_api.kit.disclosure import Disclosure
from settlement_api.ledger.audit import record_operator_read
from settlement_api.quality.reads import Scoring
from settlement_api.resources import Figures, Resources
from settlement_api.security import REALM, Reader, is_per_bank_read, unauthorized
from settlement_api.settings import ApiSettings
from settlement_core.auth import AuthError, Principal, auth_problem, authenticate
from settlement_core.business_days import today
from settlement_core.catalogue import Catalogue
from settlement_core.deadlines import Deadline, Deadlines
from settlement_core.problems import Problem
from settlement_core.redis_io import translate_errors


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


def get_settings(resources: ResourcesDep) -> ApiSettings:
    return resources.settings


def get_catalogue(resources: ResourcesDep) -> Catalogue:
    return resources.catalogue


def get_sessions(resources: ResourcesDep) -> sessionmaker[Session]:
    return resources.sessions


def get_engine(resources: ResourcesDep) -> Engine:
    return resources.engine


def get_figures(resources: ResourcesDep) -> Figures:
    return Figures(
        resources.store,
        resources.fx,
        resources.contributors,
        resources.catalogue,
        resources.targets,
        resources.settings,
        today(resources.settings.business_timezone),
    )


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
EngineDep = Annotated[Engine, Depends(get_engine)]
FiguresDep = Annotated[Figures, Depends(get_figures)]


async def _principal(request: Request, resources: Resources) -> Principal | None:
    """The caller's principal, charged to its key's rate bucket (rate_limit.py). Requests
    without a key were charged per address by anonymous.AnonymousGate; a key that fails is
    charged to the address too, so guessing keys is rate limited like anonymous reads."""
    header = request.headers.get("authorization")
    if not header:
        return None
    try:
        with translate_errors():  # a Redis outage is a 503 (problems.py), not a 500
            principal = await authenticate(header, resources.redis, resources.sessions)
    except AuthError as exc:
        await resources.limiter.charge_address(request.client.host if request.client else "unknown")
        raise auth_problem(exc, REALM, "The API key is missing, malformed, unknown or revoked.") from None
    await resources.limiter.charge_key(principal.kind, principal.id)
    return principal


async def require_reader(request: Request, resources: ResourcesDep) -> Reader:
    principal = await _principal(request, resources)
    if principal is None:
        raise unauthorized()
    if principal.kind == "operator" and is_per_bank_read(request.url.path, request.query_params.keys()):
        await record_operator_read(resources.sessions, principal.id, request.url.path, request.query_params)
    return Reader(principal)


async def public_or_reader(request: Request, resources: ResourcesDep) -> Reader:
    """A key if one is sent (a bad key is still 401); anonymous only in public mode."""
    principal = await _principal(request, resources)
    if principal is None and not resources.settings.public_mode:
        raise unauthorized()
    return Reader(principal)


async def optional_reader(request: Request, resources: ResourcesDep) -> Reader | None:
    """For pages that render without figures: the reader who may see figures, or None in
    private mode without a key (a bad key is still 401)."""
    principal = await _principal(request, resources)
    if principal is None and not resources.settings.public_mode:
        return None
    return Reader(principal)


ReaderDep = Annotated[Reader, Depends(require_reader)]
PublicReaderDep = Annotated[Reader, Depends(public_or_reader)]
OptionalReaderDep = Annotated[Reader | None, Depends(optional_reader)]


def get_disclosure(reader: PublicReaderDep, settings: SettingsDep) -> Disclosure:
    """What the caller may see of market-wide figures (kit/disclosure.py)."""
    return Disclosure.for_reader(reader, settings.min_contributors)


DisclosureDep = Annotated[Disclosure, Depends(get_disclosure)]


async def require_operator(request: Request, resources: ResourcesDep) -> Reader:
    """Operator pages: 401 without a valid key, 403 for a bank key."""
    reader = await require_reader(request, resources)
    if not reader.is_operator:
        raise Problem(403, "Forbidden", "This needs an operator key.", "forbidden")
    return reader


OperatorDep = Annotated[Reader, Depends(require_operator)]


async def require_bank(request: Request, resources: ResourcesDep) -> Reader:
    """Bank submissions (control totals): 401 without a valid key, 403 for an operator key."""
    principal = await _principal(request, resources)
    if principal is None:
        raise unauthorized()
    if principal.kind != "bank":
        raise Problem(403, "Forbidden", "This needs the bank's own key; operators never declare.", "forbidden")
    return Reader(principal)


async def require_acting_operator(request: Request, resources: ResourcesDep) -> Reader:
    """Operator actions (acknowledging a break): 401 without a valid key, 403 for a bank key.
    Not written to the audit log as a read: the action writes its own entry."""
    principal = await _principal(request, resources)
    if principal is None:
        raise unauthorized()
    if principal.kind != "operator":
        raise Problem(403, "Forbidden", "This needs an operator key.", "forbidden")
    return Reader(principal)


BankDep = Annotated[Reader, Depends(require_bank)]
ActingOperatorDep = Annotated[Reader, Depends(require_acting_operator)]


def get_control_totals(resources: ResourcesDep) -> Reconciler:
    deadline = resources.deadlines.control_totals if resources.deadlines is not None else None
    return Reconciler(resources.sessions, deadline, resources.settings.business_timezone)


ControlTotalsDep = Annotated[Reconciler, Depends(get_control_totals)]


def get_deadlines(resources: ResourcesDep) -> Deadlines | None:
    """The reporting deadlines, None when the deployment has no deadlines file."""
    return resources.deadlines


DeadlinesDep = Annotated[Deadlines | None, Depends(get_deadlines)]


def get_event_deadline(resources: ResourcesDep) -> Deadline:
    """The deadline of one settlement event (seeds/deadlines.yaml `event`); 503 when the
    deployment has no deadlines file, since lateness cannot be judged without it."""
    if resources.deadlines is None:
        raise Problem(
            503, "Service unavailable", "No reporting deadlines are configured (DEADLINES_FILE).", "unavailable"
        )
    return resources.deadlines.event


EventDeadlineDep = Annotated[Deadline, Depends(get_event_deadline)]


def scoring_of(resources: Resources) -> Scoring | None:
    """What the data-quality score needs; None without a quality or a deadlines file."""
    if resources.quality is None or resources.deadlines is None:
        return None
    return Scoring(
        resources.sessions,
        resources.quality,
        resources.deadlines.event,
        get_control_totals(resources),
        resources.settings.silent_business_days,
    )


def get_scoring(resources: ResourcesDep) -> Scoring:
    scoring = scoring_of(resources)
    if scoring is None:
        raise Problem(
            503,
            "Service unavailable",
            "No data-quality weights or reporting deadlines are configured (QUALITY_FILE, DEADLINES_FILE).",
            "unavailable",
        )
    return scoring


ScoringDep = Annotated[Scoring, Depends(get_scoring)]
