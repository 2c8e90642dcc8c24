"""A raw HTTP/1.1 connection for attacks that well-behaved clients cannot make: headers a
byte at a time, a declared body that never comes, a request left open on purpose."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(sock: socket.socket, timeout_s: float = 10.0) -> RawResponse:
    """One response (Content-Length framed); socket.timeout if none comes within timeout_s."""
    sock.settimeout(timeout_s)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data!r}")
        data += chunk
    raw_head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = raw_head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return RawResponse(int(status_line.split()[1]), headers, body[:length])


def trickle_until_closed(sock: socket.socket, data: bytes, gap_s: float, guard_s: float) -> tuple[bool, bytes]:
    """Sends `data` one byte per `gap_s` (then nothing) and reads whatever comes back.

    Returns (closed by the server, bytes received). `guard_s` only ends the test on a server
    that never closes; it is not the assertion (a closed connection is).
    """
    received = b""
    deadline = time.monotonic() + guard_s
    sock.settimeout(gap_s)
    pending = list(data)
    while time.monotonic() < deadline:
        if pending:
            try:
                sock.sendall(bytes([pending.pop(0)]))
            except OSError:  # reset by the server: closed
                return True, received
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            return True, received
        if not chunk:
            return True, received
        received += chunk
    return False, received


def pacs008(transactions: int, amount: str = "1.00", first: int = 0) -> bytes:
    """A pacs.008.001.08 of lean transfers from CQRCCNBJ (~330 B each; 12,000 = ~4 MB)."""
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf><GrpHdr>'
        f"<MsgId>SEC-{first}</MsgId><CreDtTm>2026-11-02T09:30:00+08:00</CreDtTm>"
        f"<NbOfTxs>{transactions}</NbOfTxs><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>"
    )
    tx = (
        "<CdtTrfTxInf><PmtId><EndToEndId>SEC-E2E-{i}</EndToEndId><TxId>SEC-TX-{i}</TxId></PmtId>"
        '<IntrBkSttlmAmt Ccy="CNY">{amount}</IntrBkSttlmAmt><IntrBkSttlmDt>2026-11-02</IntrBkSttlmDt>'
        "<DbtrAgt><FinInstnId><BICFI>CQRCCNBJXXX</BICFI></FinInstnId></DbtrAgt>"
        "<CdtrAgt><FinInstnId><BICFI>DBSSSGSGXXX</BICFI></FinInstnId></CdtrAgt></CdtTrfTxInf>"
    )
    body = "".join(tx.format(i=first + i, amount=amount) for i in range(transactions))
    return (head + body + "</FIToFICstmrCdtTrf></Document>").encode()


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample (0 when absent)."""
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return 0.0


def post_retrying(client: Any, url: str, attempts: int = 5, **kwargs: Any) -> Any:
    """POST, repeated while the answer is 503 (the contract: nothing was accepted, retry the
    same request). A first produce on a loaded machine can outlast the 4 s produce bound."""
    response = client.post(url, **kwargs)
    for _ in range(attempts - 1):
        if response.status_code != 503:
            break
        time.sleep(1)
        response = client.post(url, **kwargs)
    return response
