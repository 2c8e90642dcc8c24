"""The status page's embedded JSON (web/routes.py)."""

from __future__ import annotations

from datetime import date

from settlement_api.progress.schemas import DistinctVolumeOut, ProgressOut
from settlement_api.web.routes import embed


def test_embedded_json_cannot_close_the_script() -> None:
    progress = ProgressOut(
        as_of=date(2020, 1, 1),
        period="2020",
        periods=["2020"],
        timezone="</script><b>",
        on_track_pace="0.9",
        targets=[],
        distinct_volume=DistinctVolumeOut(
            currency="CNY",
            window_start=date(2020, 1, 1),
            as_of=date(2020, 1, 1),
            amount="0.00",
            amount_plan_unit="0.0000",
            by_currency={},
            unconverted={},
            events_counted=0,
        ),
    )
    html = embed("<script>__INITIAL_PROGRESS__</script>", progress)
    assert html.count("</script>") == 1
