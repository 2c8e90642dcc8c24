"""Step 1 of reading an ISO 20022 message: safe parsing, the envelope and the message type.

Parsing goes through defusedxml with DTDs, entities and external references forbidden, so
XXE and entity-expansion ("billion laughs") documents fail before any expansion happens.

A message may arrive as a bare `<Document>`, or with a business application header
(`AppHdr`, head.001.001.01 to .04) beside or around it inside any wrapper element (SWIFT's
`Envelope`, Fedwire's `FedwireFundsOutgoing`, a `RequestPayload`, ...). Its type is, in this
order: the ISO namespace of the `<Document>` (or of the business element itself), else the
header's `MsgDefIdr` (real transport wrappers drop the Document's namespace). An XML-DSig
`Sgntr` in the header is not verified and not read: the bank is authenticated by the HTTP
request's own signature.

All element names are reduced to their local names here, so the readers use plain paths.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as StdET
from dataclasses import dataclass

import defusedxml
import defusedxml.ElementTree as SafeET

from settlement_ingest.iso20022.tree import text

_ISO_TYPE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:([a-z]{4}\.[0-9]{3}\.[0-9]{3}\.[0-9]{2})")
_TYPE = re.compile(r"(pacs\.008|pacs\.009|camt\.054)\.001\.([0-9]{2})")
MIN_VERSION = 8
# The business element (the Document's only child) of each supported message.
BODY_OF = {"pacs.008": "FIToFICstmrCdtTrf", "pacs.009": "FICdtTrf", "camt.054": "BkToCstmrDbtCdtNtfctn"}
_KIND_OF = {body: kind for kind, body in BODY_OF.items()}


class IsoDocumentError(ValueError):
    """The document as a whole cannot be used (400): malformed, unsafe or unsupported."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Envelope:
    message_type: str  # e.g. "pacs.008.001.08"
    kind: str  # "pacs.008", "pacs.009" or "camt.054"
    body: StdET.Element  # the business element, names reduced to local names
    message_id: str | None  # AppHdr BizMsgIdr, else GrpHdr/MsgId
    original_message_type: str  # what the status report names as the original's type


def parse(raw: bytes) -> StdET.Element:
    try:
        root: StdET.Element = SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise IsoDocumentError(
            "unsafe_xml", f"XML with DTDs, entities or external references is refused ({type(exc).__name__})"
        ) from None
    except StdET.ParseError as exc:
        raise IsoDocumentError("malformed_xml", f"not well-formed XML: {exc}") from None
    except (ValueError, LookupError, RecursionError) as exc:
        # ValueError: an encoding Python knows but cannot decode this with; LookupError: an
        # encoding it does not know at all (`encoding="TF-8"`, found by the fuzz test in CI).
        raise IsoDocumentError("malformed_xml", f"not well-formed XML: {type(exc).__name__}") from None
    return root


def _split(tag: object) -> tuple[str, str]:
    if not isinstance(tag, str):  # comments and processing instructions
        return "", ""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _iso_type(namespace: str) -> str | None:
    match = _ISO_TYPE.fullmatch(namespace)
    return match.group(1) if match else None


def read_envelope(raw: bytes) -> Envelope:
    """Parse and locate the business element; raises IsoDocumentError (400) otherwise."""
    root = parse(raw)
    header: StdET.Element | None = None
    document_type: str | None = None
    body: StdET.Element | None = None
    body_type: str | None = None
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        ns, local = _split(el.tag)
        el.tag = local  # local names from here on
        if local == "AppHdr" and header is None:
            header = el
        elif local == "Document" and document_type is None:
            document_type = _iso_type(ns)
        elif local in _KIND_OF and body is None:
            body = el
            body_type = _iso_type(ns)
            first = next(iter(el), None)
            if body_type is None and first is not None and isinstance(first.tag, str):
                body_type = _iso_type(_split(first.tag)[0])  # prefixed children, unprefixed element
    header_type = text(header, "MsgDefIdr")
    declared = document_type or body_type
    message_type = declared or header_type
    if body is None:
        named = message_type or "none"
        raise IsoDocumentError(
            "unsupported_message",
            f"no pacs.008, pacs.009 or camt.054 business element found (message type {named}); "
            "expected FIToFICstmrCdtTrf, FICdtTrf or BkToCstmrDbtCdtNtfctn, version 001.08 or later",
        )
    match = _TYPE.fullmatch(message_type or "")
    kind_by_element = _KIND_OF[body.tag]
    if match is None:
        raise IsoDocumentError(
            "unsupported_message",
            f"unsupported message type {message_type!r} for <{body.tag}>: the Document namespace or AppHdr MsgDefIdr "
            "must name pacs.008, pacs.009 or camt.054, version 001.08 or later",
        )
    kind, version = match.group(1), int(match.group(2))
    if version < MIN_VERSION:
        raise IsoDocumentError("unsupported_message", f"{kind}.001.{version:02d} is too old; send 001.08 or later")
    if kind != kind_by_element:
        raise IsoDocumentError("unsupported_message", f"<{body.tag}> is not the business element of {kind}")
    group_id = text(body, "GrpHdr/MsgId")
    message_id = text(header, "BizMsgIdr") or group_id
    return Envelope(f"{kind}.001.{version:02d}", kind, body, message_id, f"{kind}.001.{version:02d}")
