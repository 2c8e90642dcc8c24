"""FastAPI dependencies as Annotated aliases (the full-stack-fastapi-template style)."""

from __future__ import annotations

from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends, Request

from settlement_api.audit.service import record_operator_read
from settlement_api.bucket_store import BucketStore
from settlement_api.disclosure import Disclosure
from settlement_api.fx_cache import FxCache
from settlement_api.runtime import Runtime
from settlement_api.security import REALM, Reader, is_per_bank_read, unauthorized
from settlement_api.settings import ApiSettings
from settlement_core.auth import AuthError, Principal, auth_problem, authenticate
from settlement_core.problems import Problem
from settlement_core.redis_io import translate_errors


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings(runtime: RuntimeDep) -> ApiSettings:
    return runtime.settings


def get_redis(runtime: RuntimeDep) -> aioredis.Redis:
    return runtime.redis


def get_store(runtime: RuntimeDep) -> BucketStore:
    return runtime.store


def get_fx(runtime: RuntimeDep) -> FxCache:
    return runtime.fx


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
RedisDep = Annotated[aioredis.Redis, Depends(get_redis)]
StoreDep = Annotated[BucketStore, Depends(get_store)]
FxDep = Annotated[FxCache, Depends(get_fx)]


async def _principal(request: Request, runtime: Runtime) -> Principal | None:
    """The caller's principal, charged to its key's rate bucket (rate_limit.py). Requests
    without a key were charged per address by anonymous.AnonymousGate; a key that fails is
    charged to the address too, so guessing keys is rate limited like anonymous reads."""
    header = request.headers.get("authorization")
    if not header:
        return None
    try:
        with translate_errors():  # a Redis outage is a 503 (problems.py), not a 500
            principal = await authenticate(header, runtime.redis, runtime.sessions)
    except AuthError as exc:
        await runtime.limiter.charge_address(request.client.host if request.client else "unknown")
        raise auth_problem(exc, REALM, "The API key is missing, malformed, unknown or revoked.") from None
    await runtime.limiter.charge_key(principal.kind, principal.id)
    return principal


async def require_reader(request: Request, runtime: RuntimeDep) -> Reader:
    principal = await _principal(request, runtime)
    if principal is None:
        raise unauthorized()
    if principal.kind == "operator" and is_per_bank_read(request.url.path, request.query_params.keys()):
        await record_operator_read(runtime, principal.id, request.url.path, request.query_params)
    return Reader(principal)


async def public_or_reader(request: Request, runtime: RuntimeDep) -> Reader:
    """A key if one is sent (a bad key is still 401); anonymous only in public mode."""
    principal = await _principal(request, runtime)
    if principal is None and not runtime.settings.public_mode:
        raise unauthorized()
    return Reader(principal)


async def optional_reader(request: Request, runtime: RuntimeDep) -> Reader | None:
    """For pages that render without figures: the reader who may see figures, or None in
    private mode without a key (a bad key is still 401)."""
    principal = await _principal(request, runtime)
    if principal is None and not runtime.settings.public_mode:
        return None
    return Reader(principal)


ReaderDep = Annotated[Reader, Depends(require_reader)]
PublicReaderDep = Annotated[Reader, Depends(public_or_reader)]


def get_disclosure(reader: PublicReaderDep, runtime: RuntimeDep) -> Disclosure:
    """What the caller may see of market-wide figures (disclosure.py)."""
    return Disclosure.for_reader(reader, runtime.settings.min_contributors)


DisclosureDep = Annotated[Disclosure, Depends(get_disclosure)]


async def require_operator(request: Request, runtime: RuntimeDep) -> Reader:
    """Operator pages: 401 without a valid key, 403 for a bank key."""
    reader = await require_reader(request, runtime)
    if not reader.is_operator:
        raise Problem(403, "Forbidden", "This needs an operator key.", "forbidden")
    return reader


OperatorDep = Annotated[Reader, Depends(require_operator)]
