"""settlement_core.request_signing (pure): the HMAC v2 canonical string covers method, path,
query string, timestamp and body; v1 only where allowed; the window; overlap secrets."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from settlement_core.request_signing import (
    RequestParts,
    SignatureRejected,
    canonical_v2,
    sign_v1,
    sign_v2,
    verify_hmac,
)

SECRET = "a3" * 32
OTHER = "b4" * 32
BODY = b"<Document>...</Document>"
NOW = 1_700_000_000
ISO = RequestParts("POST", "/v1/iso20022", "category=offshore")


def test_canonical_v2_is_the_documented_string() -> None:
    expected = ("v2\nPOST\n/v1/iso20022\ncategory=offshore\n1700000000\n" + hashlib.sha256(BODY).hexdigest()).encode()
    assert canonical_v2(ISO, NOW, BODY) == expected
    header = sign_v2(SECRET, ISO, NOW, BODY)
    assert header == f"t={NOW},v2=" + hmac.new(SECRET.encode(), expected, hashlib.sha256).hexdigest()


def test_canonical_keeps_path_and_query_exactly_as_sent() -> None:
    # No decoding or re-ordering: a different spelling is a different request.
    a = canonical_v2(RequestParts("post", "/v1/a%2Fb", "x=1&y=2"), NOW, b"")
    b = canonical_v2(RequestParts("POST", "/v1/a/b", "y=2&x=1"), NOW, b"")
    assert a.split(b"\n")[1:4] == [b"POST", b"/v1/a%2Fb", b"x=1&y=2"]
    assert a != b


def test_v2_round_trip_inside_the_window() -> None:
    for skew in (-300, 0, 300):
        verify_hmac([SECRET], sign_v2(SECRET, ISO, NOW, BODY), ISO, BODY, NOW + skew)


@pytest.mark.parametrize(
    "replayed",
    [
        RequestParts("POST", "/v1/iso20022", "category=cross_border_rmb"),  # the audit's M2 attack
        RequestParts("POST", "/v1/iso20022", ""),
        RequestParts("POST", "/v1/events", "category=offshore"),
        RequestParts("PUT", "/v1/iso20022", "category=offshore"),
    ],
)
def test_v2_refuses_the_same_signature_on_another_request(replayed: RequestParts) -> None:
    header = sign_v2(SECRET, ISO, NOW, BODY)
    with pytest.raises(SignatureRejected, match="does not match"):
        verify_hmac([SECRET], header, replayed, BODY, NOW)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "t=abc,v2=00",
        f"t={NOW}",
        "v2=00",
        sign_v2(OTHER, ISO, NOW, BODY),
        sign_v2(SECRET, ISO, NOW, BODY + b" "),
        sign_v2(SECRET, ISO, NOW + 1, BODY).replace(f"t={NOW + 1}", f"t={NOW}"),
        sign_v2(SECRET, ISO, NOW - 301, BODY),
        sign_v2(SECRET, ISO, NOW + 301, BODY),
        # The timestamp in Arabic-Indic digits: int() reads it as the same number, so only
        # an ASCII check refuses it (a header is text; only ASCII digits are a timestamp).
        sign_v2(SECRET, ISO, NOW, BODY).replace(
            f"t={NOW}", "t=" + str(NOW).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
        ),
        "t=" + "9" * 5000 + ",v2=00",
    ],
)
def test_bad_v2_signatures_are_refused(header: str | None) -> None:
    with pytest.raises(SignatureRejected):
        verify_hmac([SECRET], header, ISO, BODY, NOW)


def test_v1_is_refused_unless_allowed() -> None:
    header = sign_v1(SECRET, NOW, BODY)
    assert header == f"t={NOW},v1=" + hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    with pytest.raises(SignatureRejected, match="v1"):
        verify_hmac([SECRET], header, ISO, BODY, NOW)
    verify_hmac([SECRET], header, ISO, BODY, NOW, v1_allowed=True)
    with pytest.raises(SignatureRejected):
        verify_hmac([SECRET], header, ISO, BODY + b"x", NOW, v1_allowed=True)


def test_a_v2_value_is_judged_by_v2_alone() -> None:
    # A valid v1 next to a wrong v2 must not let a replay through where v1 is allowed.
    header = sign_v1(SECRET, NOW, BODY) + ",v2=" + "0" * 64
    with pytest.raises(SignatureRejected):
        verify_hmac([SECRET], header, ISO, BODY, NOW, v1_allowed=True)


def test_either_secret_of_an_overlap_verifies_and_hex_case_is_ignored() -> None:
    good = sign_v2(OTHER, ISO, NOW, BODY).split("v2=")[1].upper()
    verify_hmac([SECRET, OTHER], f"t={NOW},v2={'0' * 64},v2={good}", ISO, BODY, NOW)
    with pytest.raises(SignatureRejected):
        verify_hmac([SECRET], f"t={NOW},v2={good}", ISO, BODY, NOW)


def test_custom_window() -> None:
    with pytest.raises(SignatureRejected, match="window"):
        verify_hmac([SECRET], sign_v2(SECRET, ISO, NOW, BODY), ISO, BODY, NOW + 61, window_s=60)
