"""Reading an SDMX export back with pysdmx, for the tests: every export is read by the
library that wrote it, SDMX-ML validated against the SDMX 2.1 XSDs on the way."""

from __future__ import annotations

from pysdmx.io import read_sdmx
from pysdmx.io.pd import PandasDataset

Key = tuple[str, str, str, str, str]  # FREQ, TARGET, CURRENCY, UNIT, TIME_PERIOD


def read_back(body: str) -> dict[Key, dict[str, str]]:
    """Observation by key: OBS_VALUE, OBS_STATUS and CONF_STATUS as the library reads them."""
    message = read_sdmx(body, validate=True)
    assert message.data is not None, "no dataset in the message"
    (dataset,) = message.data
    assert isinstance(dataset, PandasDataset)
    rows: dict[Key, dict[str, str]] = {}
    for record in dataset.data.to_dict("records"):
        key = (record["FREQ"], record["TARGET"], record["CURRENCY"], record["UNIT"], str(record["TIME_PERIOD"]))
        assert key not in rows, f"observation {key} twice"
        rows[key] = {name: str(record[name]) for name in ("OBS_VALUE", "OBS_STATUS", "CONF_STATUS")}
    return rows
