"""seed_files.read_yaml: a data file that cannot be used raises the caller's error type with
a message naming the kind of file, its path and the reason; a good file gives its document."""

from __future__ import annotations

from pathlib import Path

import pytest

from settlement_core.seed_files import read_yaml


class SeedError(ValueError):
    pass


def test_a_document_is_read(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text("periods:\n  - '2020'\nnote: 发展特色金融结算服务\n", encoding="utf-8")
    assert read_yaml(path, "calendar", SeedError) == {"periods": ["2020"], "note": "发展特色金融结算服务"}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "No such file"),
        (b"\xff\xfe not text", "not UTF-8 text"),
        (b"a: [unclosed", "not valid YAML"),
    ],
)
def test_an_unusable_file_names_itself_and_why(tmp_path: Path, content: bytes | None, reason: str) -> None:
    path = tmp_path / "calendar.yaml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SeedError) as raised:
        read_yaml(path, "calendar", SeedError)
    assert str(raised.value).startswith(f"calendar file {path}: ")
    assert reason in str(raised.value)
