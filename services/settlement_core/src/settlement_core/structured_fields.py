"""The part of RFC 8941 (Structured Field Values for HTTP) that request signatures need:
parsing Dictionaries (`Signature-Input`, `Signature`, `Content-Digest`) and serialising an
Inner List with its parameters (the `@signature-params` line of an RFC 9421 signature base).

Bare items supported: Integer, String, Token, Byte Sequence, Boolean. Decimals are refused
(no signature parameter uses one). Anything malformed raises `StructuredFieldError`, so a
hostile header can only ever be refused, never half-read.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

BareItem = int | str | bytes | bool


class StructuredFieldError(ValueError):
    """The header is not a valid structured field of the expected shape."""


@dataclass(frozen=True, slots=True)
class Token:
    """An RFC 8941 Token (unquoted), kept apart from String so it serialises back unquoted."""

    value: str


Params = tuple[tuple[str, "BareItem | Token"], ...]


@dataclass(frozen=True, slots=True)
class Item:
    value: BareItem | Token
    params: Params


@dataclass(frozen=True, slots=True)
class InnerList:
    items: tuple[Item, ...]
    params: Params

    def param(self, name: str) -> BareItem | Token | None:
        for key, value in self.params:
            if key == name:
                return value
        return None


_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*")
_INTEGER = re.compile(r"-?[0-9]{1,15}")


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self, char: str) -> None:
        if self.peek() != char:
            raise StructuredFieldError(f"expected {char!r} at {self.pos}")
        self.pos += 1

    def skip_ows(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.pos += 1

    def skip_sp(self) -> None:
        while self.peek() == " ":
            self.pos += 1

    def match(self, pattern: re.Pattern[str]) -> str:
        found = pattern.match(self.text, self.pos)
        if found is None:
            raise StructuredFieldError(f"unexpected character at {self.pos}")
        self.pos = found.end()
        return found.group(0)

    def key(self) -> str:
        return self.match(_KEY)

    def bare_item(self) -> BareItem | Token:
        char = self.peek()
        if char == '"':
            return self.string()
        if char == ":":
            return self.byte_sequence()
        if char == "?":
            self.pos += 1
            flag = self.peek()
            if flag not in ("0", "1"):
                raise StructuredFieldError("a boolean is ?0 or ?1")
            self.pos += 1
            return flag == "1"
        if char == "-" or (char.isascii() and char.isdigit()):
            number = self.match(_INTEGER)
            if self.peek() == ".":
                raise StructuredFieldError("decimals are not supported here")
            return int(number)
        if char and (char.isalpha() or char == "*"):
            return Token(self.match(_TOKEN))
        raise StructuredFieldError(f"no item at {self.pos}")

    def string(self) -> str:
        self.take('"')
        out: list[str] = []
        while True:
            char = self.peek()
            if not char:
                raise StructuredFieldError("unterminated string")
            self.pos += 1
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\"):
                    raise StructuredFieldError("bad escape in string")
                out.append(escaped)
                self.pos += 1
            elif char == '"':
                return "".join(out)
            elif not (0x20 <= ord(char) <= 0x7E):
                raise StructuredFieldError("strings are printable ASCII")
            else:
                out.append(char)

    def byte_sequence(self) -> bytes:
        self.take(":")
        end = self.text.find(":", self.pos)
        if end < 0:
            raise StructuredFieldError("unterminated byte sequence")
        encoded = self.text[self.pos : end]
        self.pos = end + 1
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise StructuredFieldError("byte sequence is not base64") from exc

    def params(self) -> Params:
        out: list[tuple[str, BareItem | Token]] = []
        while self.peek() == ";":
            self.pos += 1
            self.skip_sp()
            name = self.key()
            value: BareItem | Token = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            out = [(k, v) for k, v in out if k != name]  # a repeated key overrides (RFC 8941 4.2.3.2)
            out.append((name, value))
        return tuple(out)

    def inner_list(self) -> InnerList:
        self.take("(")
        items: list[Item] = []
        while True:
            self.skip_sp()
            if self.peek() == ")":
                self.pos += 1
                return InnerList(tuple(items), self.params())
            value = self.bare_item()
            items.append(Item(value, self.params()))
            if self.peek() not in (" ", ")"):
                raise StructuredFieldError("items of an inner list are separated by spaces")


def parse_dictionary(header: str) -> dict[str, Item | InnerList]:
    """RFC 8941 4.2.2. A member without a value is Boolean true, as the RFC says."""
    reader = _Reader(header.strip(" \t"))
    members: dict[str, Item | InnerList] = {}
    if not reader.text:
        return members
    while True:
        name = reader.key()
        member: Item | InnerList
        if reader.peek() == "=":
            reader.pos += 1
            if reader.peek() == "(":
                member = reader.inner_list()
            else:
                value = reader.bare_item()
                member = Item(value, reader.params())
        else:
            member = Item(True, reader.params())
        members[name] = member
        reader.skip_ows()
        if not reader.peek():
            return members
        reader.take(",")
        reader.skip_ows()
        if not reader.peek():
            raise StructuredFieldError("trailing comma")


def serialize_bare_item(value: BareItem | Token) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Token):
        return value.value
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode() + ":"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_params(params: Params) -> str:
    return "".join(f";{k}" if v is True else f";{k}={serialize_bare_item(v)}" for k, v in params)


def serialize_inner_list(inner: InnerList) -> str:
    items = " ".join(serialize_bare_item(i.value) + serialize_params(i.params) for i in inner.items)
    return f"({items}){serialize_params(inner.params)}"
