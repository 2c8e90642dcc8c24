"""Request dependencies: the app's resources, the authenticated principal and the body.

Everything is created in the lifespan (app.py) and reached through `request.app.state`,
so importing this module opens no connection.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

import redis.asyncio as aioredis
from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from settlement_core.auth import AuthError, Principal, auth_problem, authenticate
from settlement_core.bank_credentials import CredentialCache
from settlement_core.kafka_io import EventProducer
from settlement_core.problems import Problem
from settlement_core.redis_io import RedisUnavailable, translate_errors
from settlement_core.request_signing import RequestParts, SignatureRejected
from settlement_core.secret_box import SecretsKeyMissing, SecretUnreadable
from settlement_ingest.metrics import IngestMetrics
from settlement_ingest.service import Intake
from settlement_ingest.settings import IngestSettings

logger = logging.getLogger(__name__)

JSON_TYPES = frozenset({"application/json"})
XML_TYPES = frozenset({"application/xml", "text/xml"})


@dataclass(frozen=True, slots=True)
class Resources:
    settings: IngestSettings
    redis: aioredis.Redis
    engine: Engine
    sessions: Callable[[], Session]
    producer: EventProducer
    intake: Intake
    metrics: IngestMetrics
    credentials: CredentialCache


async def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_intake(resources: ResourcesDep) -> Intake:
    return resources.intake


IntakeDep = Annotated[Intake, Depends(get_intake)]


REALM = "settlement-ingest"


def _auth_problem(exc: AuthError) -> Problem:
    return auth_problem(exc, REALM)


async def get_principal(request: Request, resources: ResourcesDep) -> Principal:
    try:
        with translate_errors():
            return await authenticate(
                request.headers.get("authorization"),
                resources.redis,
                resources.sessions,
                cache_ttl_s=resources.settings.auth_cache_ttl_s,
            )
    except AuthError as exc:
        raise _auth_problem(exc) from None
    except RedisUnavailable as exc:
        raise resources.intake.redis_down(exc) from exc


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_bank(principal: PrincipalDep) -> Principal:
    if principal.kind != "bank":
        raise _auth_problem(AuthError(403, "Operator keys can read but never write events; use the bank's own key."))
    return principal


BankDep = Annotated[Principal, Depends(get_bank)]


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class SignedBody:
    """Reads the raw body within the size limit, checks its type and the bank's HMAC."""

    def __init__(self, kind: Literal["json", "xml"]) -> None:
        self.kind = kind

    async def __call__(self, request: Request, bank: BankDep, resources: ResourcesDep) -> bytes:
        settings = resources.settings
        media_type = _media_type(request)
        if self.kind == "json":
            limit, accepted = settings.max_body_bytes, media_type in JSON_TYPES
        else:
            limit = settings.max_xml_bytes
            accepted = media_type in XML_TYPES or media_type.endswith("+xml")
        if not accepted:
            expected = "application/json" if self.kind == "json" else "application/xml"
            raise Problem(
                415,
                "Unsupported media type",
                f"Content-Type {media_type or '(none)'!r} is not accepted here; send {expected}.",
                "unsupported-media-type",
            )
        body = await _read_limited(request, limit)
        await check_signature(request, bank, resources.credentials, body)
        return body


def request_parts(request: Request) -> RequestParts:
    """The request as received, for signature checks: path and query string raw (as sent)."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return RequestParts(
        method=request.method,
        path=raw_path.decode("latin-1").split("?", 1)[0],
        query=request.scope.get("query_string", b"").decode("latin-1"),
        authority=request.headers.get("host", ""),
        headers=headers,
    )


async def check_signature(request: Request, bank: Principal, credentials: CredentialCache, body: bytes) -> None:
    """401 unless the request is signed as this bank must sign (settlement_core.bank_credentials)."""
    try:
        await credentials.check(bank.id, request_parts(request), body, time.time())
    except SignatureRejected as exc:
        raise _auth_problem(AuthError(401, exc.detail)) from None
    except (SecretsKeyMissing, SecretUnreadable) as exc:
        logger.error("cannot open the bank's HMAC secret", extra={"bank_id": bank.id, "error": str(exc)})
        raise Problem(503, "Service unavailable", "Signatures cannot be checked right now.", "unavailable") from None


def _too_large(limit: int) -> Problem:
    return Problem(413, "Content too large", f"The body exceeds the limit of {limit} bytes.", "too-large")


async def _read_limited(request: Request, limit: int) -> bytes:
    # Refuse early on the declared length, and count the stream too: chunked bodies and
    # lying clients have no trustworthy Content-Length.
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.strip().isascii() and declared.strip().isdigit()):
            raise Problem(400, "Bad request", "Content-Length is not a number.", "bad-request")
        if int(declared) > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


JsonBody = Annotated[bytes, Depends(SignedBody("json"))]
XmlBody = Annotated[bytes, Depends(SignedBody("xml"))]
