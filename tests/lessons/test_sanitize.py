"""The nbval sanitize file: every rule is parsed, and each rule does what its name says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns

SANITIZE_FILE = Path(__file__).with_name("sanitize.cfg")
EXPECTED_RULES = 5


def rules() -> list[tuple[str, str]]:
    return get_sanitize_patterns(SANITIZE_FILE.read_text())


def test_file_uses_lf_line_endings() -> None:
    assert b"\r" not in SANITIZE_FILE.read_bytes()


def test_nbval_parses_every_rule() -> None:
    written = SANITIZE_FILE.read_text().count("\nregex: ")
    assert written == EXPECTED_RULES
    assert len(rules()) == EXPECTED_RULES


def test_every_section_has_one_rule() -> None:
    sections = re.findall(r"^\[[^\]]+\]$", SANITIZE_FILE.read_text(), flags=re.MULTILINE)
    assert len(sections) == EXPECTED_RULES


def sanitize(text: str) -> str:
    for pattern, replacement in rules():
        text = re.sub(pattern, replacement, text)
    return text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[1m1500/1500\x1b[0m done", "1500/1500 done"),
        ("<Figure at 0x7f3a2c1b9d50>", "<Figure at 0xADDRESS>"),
        ("1500/1500 - 3s - 2ms/step - acc: 0.8", "1500/1500 - TIME - TIME/step - acc: 0.8"),
        ("375/375 - 0.8s - 412us/step", "375/375 - TIME - TIME/step"),
        ("trained in 12.3 s", "trained in TIME s"),
        ("accuracy 0.8812 after 10 epochs", "accuracy 0.8812 after 10 epochs"),
    ],
)
def test_rules_replace_only_what_varies(raw: str, clean: str) -> None:
    assert sanitize(raw) == clean
