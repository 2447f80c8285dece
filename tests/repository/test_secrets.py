"""No password in a committed configuration: a database URL names its user only."""

from __future__ import annotations

import re
import subprocess

from tests.support import REPO

# scheme://user:password@host - the form a password-free URL never has
URL_WITH_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s@'\"]+@")
CONFIG_SUFFIXES = (".py", ".json", ".yaml", ".yml", ".cfg", ".toml", ".ini", ".env")


def tracked_configs() -> list[str]:
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    return [f for f in files if f.endswith(CONFIG_SUFFIXES) and not f.startswith("tests/")]


def test_the_password_pattern_finds_a_password_and_only_that() -> None:
    assert URL_WITH_PASSWORD.search("postgresql+psycopg://grader:s3cret@db/gradebook")
    assert not URL_WITH_PASSWORD.search("postgresql+psycopg://grader@db.example.org/gradebook")
    assert not URL_WITH_PASSWORD.search("http://127.0.0.1:8000/hub")


def test_no_committed_configuration_holds_a_password() -> None:
    found = []
    for name in tracked_configs():
        for number, line in enumerate((REPO / name).read_text(errors="replace").splitlines(), 1):
            if not line.lstrip().startswith("#") and URL_WITH_PASSWORD.search(line):
                found.append(f"{name}:{number}")
    assert not found, f"a password in a committed file (use ~/.pgpass or PGPASSWORD): {found}"
