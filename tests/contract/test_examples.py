"""Every example in both OpenAPI documents is valid: the live services accept it."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.contract.conftest import LiveStack

pytestmark = pytest.mark.integration


def document(url: str) -> dict[str, Any]:
    response = httpx.get(f"{url}/openapi.json", timeout=10)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def test_ingest_examples_are_accepted(live: LiveStack) -> None:
    doc = document(live.ingest_url)
    auth = {"Authorization": f"Bearer {live.bank_key}"}
    paths = doc["paths"]
    events = doc["components"]["schemas"]["EventIn"]["examples"]
    assert len(events) >= 2  # one with `category`, one with `categories`
    batch = paths["/v1/events/batch"]["post"]["requestBody"]["content"]["application/json"]["example"]
    iso_text = paths["/v1/iso20022"]["post"]["requestBody"]["description"]
    xml = re.search(r"```xml\n(.*?)```", iso_text, re.DOTALL)
    assert xml, "the ISO 20022 example is missing from the request body description"
    with httpx.Client(base_url=live.ingest_url, headers=auth, timeout=30) as client:
        for event in events:
            single = client.post("/v1/events", json=event)
            assert single.status_code in (200, 202), single.text
            assert single.json()["event_id"] == event["event_id"]
        answered = client.post("/v1/events/batch", json=batch)
        assert answered.status_code == 200, answered.text
        assert answered.json()["rejected"] == 0, answered.text
        assert len(answered.json()["results"]) == len(batch["events"])
        iso = client.post(
            "/v1/iso20022",
            content=xml.group(1).encode(),
            params={"category": "cross_border_rmb"},
            headers={"Content-Type": "application/xml"},
        )
        assert iso.status_code == 200, iso.text
        assert iso.json()["rejected"] == 0, iso.text
        assert len(iso.json()["results"]) == 1, iso.text


def test_api_parameter_examples_are_accepted(live: LiveStack) -> None:
    doc = document(live.api_url)
    auth = {"Authorization": f"Bearer {live.bank_key}"}
    operator = {"Authorization": f"Bearer {live.operator_key}"}
    tried = 0
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            parameters = operation.get("parameters", [])
            examples = {p["name"]: p["example"] for p in parameters if "example" in p}
            if not examples:
                continue
            url = path
            for p in parameters:
                if p["in"] == "path":
                    value = examples.get(p["name"], live.bank_id)  # ids have no example: the own bank
                    url = url.replace("{" + p["name"] + "}", value)
            query = {p["name"]: examples[p["name"]] for p in parameters if p["in"] == "query" and p["name"] in examples}
            response = httpx.request(
                method.upper(),
                f"{live.api_url}{url}",
                params=query,
                headers=operator if path.startswith(("/v1/operator", "/v1/report")) else auth,
                timeout=30,
            )
            assert response.status_code == 200, f"{method} {url} {query}: {response.text}"
            tried += 1
    assert tried >= 4, "the API document has lost its parameter examples"


def test_api_control_totals_example_is_accepted(live: LiveStack) -> None:
    doc = document(live.api_url)
    [example] = doc["components"]["schemas"]["DeclarationIn"]["examples"]
    auth = {"Authorization": f"Bearer {live.bank_key}"}
    response = httpx.post(f"{live.api_url}/v1/control-totals", json=example, headers=auth, timeout=30)
    assert response.status_code in (200, 201), response.text  # 200: declared by an earlier run
    assert response.json()["period"] == example["period"]
