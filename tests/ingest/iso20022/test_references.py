"""The event-id rule: injective, reversible, inside the event-id alphabet and length."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from settlement_core.identifiers import EVENT_ID_PATTERN, MAX_EVENT_ID_LENGTH
from settlement_core.references import encode_reference, reference_of
from settlement_ingest.iso20022.references import REVERSAL_SUFFIX, first_reference

# Max35Text: 1-35 characters XML can carry (no surrogates, no C0 controls but tab/LF/CR).
MAX35 = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=35)


@given(MAX35)
def test_every_reference_maps_to_a_valid_id_and_back(reference: str) -> None:
    event_id = encode_reference(reference)
    assert EVENT_ID_PATTERN.fullmatch(event_id + REVERSAL_SUFFIX)
    assert len(event_id + REVERSAL_SUFFIX) <= MAX_EVENT_ID_LENGTH
    assert reference_of(event_id) == reference


@given(MAX35, MAX35)
def test_different_references_get_different_ids(a: str, b: str) -> None:
    assert (encode_reference(a) == encode_reference(b)) == (a == b)


def test_examples() -> None:
    assert encode_reference("ABC/ABC-13679/2015-09-15") == "ABC%2FABC-13679%2F2015-09-15"
    assert encode_reference("E2E-0002") == "E2E-0002"  # ids in the alphabet are unchanged
    assert encode_reference("50%~ a") == "50%25%7E%20a"
    assert encode_reference("\U0001f600" * 35).count("%") == 35 * 4
    assert reference_of("50%25%7E%20a") == "50%~ a"


def test_the_first_reference_skips_endtoendid_notprovided() -> None:
    found = first_reference(("UETR", None), ("EndToEndId", "NOTPROVIDED"), ("TxId", "T1"))
    assert found is not None
    assert (found.kind, found.value) == ("TxId", "T1")
    assert first_reference(("UETR", None)) is None
