"""The catalogue's field types: pydantic's strict validation, with the message an operator
reads in place of pydantic's own.

A message may name the offending value as `{value!r}`. Each type says what its field must
be; the field's path (`targets[0].window.start`) is added by `loading`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Strict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from settlement_core.catalogue.model import ReferenceKind
from settlement_core.categories import CATEGORY_CODE_PATTERN, Direction
from settlement_core.dates import DateFormatError, parse_iso_date
from settlement_core.identifiers import COUNTRY_PATTERN
from settlement_core.money import MINOR_UNITS
from settlement_core.rules import Action, Counterparty

# The error type `loading` reports with its message as written here.
PROBLEM = "catalogue"
# A period label: also a Prometheus label value and a query parameter.
PERIOD_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,31}")
# Fields of the bank's event a refusal may point at.
REFUSAL_POINTERS = ("currency", "categories", "counterparty_country", "direction")
_ISO_PURPOSE = re.compile(r"[A-Z0-9]{1,4}")

NON_EMPTY = "must be a non-empty string"
A_LIST = "must be a list"
A_MAPPING = "must be a mapping"
FOREIGN_OR_DOMESTIC = "must be foreign or domestic"
INBOUND_OR_OUTBOUND = "must be inbound or outbound"
UNKNOWN_CATEGORY = "unknown category {value!r}"


def problem(message: str) -> PydanticCustomError:
    """A catalogue error whose text is `message` as it stands (no context is given, so
    pydantic fills in no template: braces the operator wrote are kept)."""
    return PydanticCustomError(PROBLEM, message)


def _otherwise(message: str) -> WrapValidator:
    """`message` in place of pydantic's when the value is not of the field's type."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise problem(message.format(value=value)) from None

    return WrapValidator(validate)


def _holds(test: Callable[[Any], object], message: str) -> AfterValidator:
    """Refuses a value of the right type for which `test` is false, with `message`."""

    def validate(value: Any) -> Any:
        if not test(value):
            raise problem(message.format(value=value))
        return value

    return AfterValidator(validate)


def not_null(message: str) -> BeforeValidator:
    """For a key that may be left out: written with no value (YAML null) it is refused with
    its type's `message` rather than read as left out. `currencies:` with the list
    forgotten would otherwise make a rule match every currency."""

    def validate(value: Any) -> Any:
        if value is None:
            raise problem(message)
        return value

    return BeforeValidator(validate)


def _period_label(value: Any) -> Any:
    # YAML reads an unquoted 2020 as a number; its label is the text.
    return str(value) if type(value) is int else value


def _day_from_text(value: Any) -> Any:
    # YAML gives a date for an unquoted 2020-01-01; quoted, it is text, read as strictly as
    # every date of the project. Anything else is left to the strict date type, which also
    # refuses a datetime (YAML's 2020-01-01 10:00): it would not compare with dates later.
    if isinstance(value, str):
        try:
            return parse_iso_date(value)
        except DateFormatError:
            return value
    return value


def _code_set(test: Callable[[str], object], message: str) -> BeforeValidator:
    """A non-empty list of codes for which `test` holds, as a set; a bad code is named by
    `message` at the list (the first in sorted order)."""

    def validate(value: Any) -> Any:
        if not isinstance(value, list):
            raise problem(A_LIST)
        bad = sorted(str(c) for c in value if not (isinstance(c, str) and test(c)))
        if bad:
            raise problem(message.format(value=bad[0]))
        if not value:
            raise problem("must not be empty")
        return frozenset(value)

    return BeforeValidator(validate)


Text = Annotated[str, Strict(), _otherwise(NON_EMPTY), _holds(str.strip, NON_EMPTY)]
CategoryCode = Annotated[
    str,
    Strict(),
    _otherwise("must be lower-case letters, digits and _ (max 32)"),
    _holds(CATEGORY_CODE_PATTERN.fullmatch, "must be lower-case letters, digits and _ (max 32)"),
]
# A category named by another entry; that it is one of the file's categories is checked by
# the document's validator, with the same message.
CategoryRef = Annotated[str, Strict(), _otherwise(UNKNOWN_CATEGORY)]
Country = Annotated[
    str,
    Strict(),
    _otherwise("must be an ISO 3166-1 alpha-2 code"),
    _holds(COUNTRY_PATTERN.fullmatch, "must be an ISO 3166-1 alpha-2 code"),
]
Amount = Annotated[
    int, Strict(), _otherwise("must be a positive integer"), _holds(lambda n: n > 0, "must be a positive integer")
]
Currency = Annotated[Text, _holds(MINOR_UNITS.__contains__, "unknown currency {value!r}")]
# The BeforeValidator, last, runs first.
Period = Annotated[
    str,
    Strict(),
    _otherwise("must be a label such as 2020 or 2016-2020"),
    _holds(PERIOD_PATTERN.fullmatch, "must be a label such as 2020 or 2016-2020"),
    BeforeValidator(_period_label),
]
Day = Annotated[date, Strict(), _otherwise("must be a date YYYY-MM-DD"), BeforeValidator(_day_from_text)]
Enabled = Annotated[bool, Strict(), _otherwise("must be true or false")]
# Enumerations are read from their YAML text: strict would take only enum members.
Kind = Annotated[ReferenceKind, Strict(False), _otherwise("must be baseline or actual")]
RuleAction = Annotated[Action, Strict(False), _otherwise(f"must be one of {', '.join(a.value for a in Action)}")]
CounterpartyCondition = Annotated[Counterparty, Strict(False), _otherwise(FOREIGN_OR_DOMESTIC)]
DirectionCondition = Annotated[Direction, Strict(False), _otherwise(INBOUND_OR_OUTBOUND)]
RefusalPointer = Annotated[Text, _holds(REFUSAL_POINTERS.__contains__, "unknown event field {value!r}")]
Currencies = Annotated[frozenset[str], _code_set(MINOR_UNITS.__contains__, "unknown currency {value!r}")]
Purposes = Annotated[frozenset[str], _code_set(_ISO_PURPOSE.fullmatch, "not an ISO 20022 purpose code {value!r}")]

# Keys that may be left out, but not written without a value.
OptionalText = Annotated[Text | None, not_null(NON_EMPTY)]
OptionalCurrencies = Annotated[Currencies | None, not_null(A_LIST)]
OptionalPurposes = Annotated[Purposes | None, not_null(A_LIST)]
OptionalCounterparty = Annotated[CounterpartyCondition | None, not_null(FOREIGN_OR_DOMESTIC)]
OptionalDirection = Annotated[DirectionCondition | None, not_null(INBOUND_OR_OUTBOUND)]
OptionalRefusalPointer = Annotated[RefusalPointer | None, not_null(NON_EMPTY)]
