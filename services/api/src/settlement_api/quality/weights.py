"""The data-quality score's weights (`seeds/quality.yaml`): data, loaded and checked once at
the API's start; a bad file stops the start naming its field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from settlement_core.seed_files import read_yaml


class QualityFileError(ValueError):
    """A malformed quality file; the message names the offending field."""


def _decimal_text(value: object) -> object:
    # Tolerances are written as strings ("0.05") so YAML never makes them binary floats.
    return Decimal(value) if isinstance(value, str) else value


Rate = Annotated[Decimal, BeforeValidator(_decimal_text), Field(gt=0, le=1)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Component(_Entry):
    description: str = Field(min_length=1)
    weight: int = Field(ge=0, le=100)


class RateComponent(Component):
    tolerance: Rate


class QualityWeights(_Entry):
    timeliness: Component
    rejections: RateComponent
    corrections: RateComponent
    control_totals: Component
    unknown_countries: RateComponent
    silence: Component
    alert_below: int = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _sum_to_100(self) -> Self:
        total = sum(
            c.weight
            for c in (
                self.timeliness,
                self.rejections,
                self.corrections,
                self.control_totals,
                self.unknown_countries,
                self.silence,
            )
        )
        if total != 100:
            raise ValueError(f"the weights sum to {total}, not 100")
        return self


def parse_weights(document: object) -> QualityWeights:
    try:
        return QualityWeights.model_validate(document)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"]) or "quality"
        raise QualityFileError(f"{where}: {error['msg']}") from None


def load_weights(path: Path) -> QualityWeights:
    return parse_weights(read_yaml(path, "quality", QualityFileError))
