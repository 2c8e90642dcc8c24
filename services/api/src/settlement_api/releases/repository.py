"""The releases' SQL (tables of migration 0010): every statement of the slice lives here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from settlement_core.db.models import Release, ReleaseFigure


@dataclass(frozen=True, slots=True)
class StoredRelease:
    release: Release
    figures: tuple[ReleaseFigure, ...]


def insert_release(session: Session, release: Release, figures: Sequence[ReleaseFigure]) -> int:
    """Adds the release and its figures to the session's transaction; returns its id."""
    session.add(release)
    session.flush()
    for figure in figures:
        figure.release_id = release.id
        session.add(figure)
    return release.id


def list_releases(session: Session) -> list[Release]:
    return list(session.scalars(select(Release).order_by(Release.known_at, Release.id)))


def _with_figures(session: Session, release: Release | None) -> StoredRelease | None:
    if release is None:
        return None
    figures = session.scalars(
        select(ReleaseFigure).where(ReleaseFigure.release_id == release.id).order_by(ReleaseFigure.target)
    )
    return StoredRelease(release, tuple(figures))


def get_release(session: Session, release_id: int) -> StoredRelease | None:
    return _with_figures(session, session.get(Release, release_id))


def final_release(session: Session, period: str, known_at: datetime) -> StoredRelease | None:
    """The latest final release of `period` published at or before `known_at`."""
    release = session.scalars(
        select(Release)
        .where(Release.period == period, Release.kind == "final", Release.known_at <= known_at)
        .order_by(Release.known_at.desc(), Release.id.desc())
        .limit(1)
    ).first()
    return _with_figures(session, release)
