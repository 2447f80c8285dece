"""course_authoring.kubernetes_settings: the setting paths of a values schema, and the check of a
values file against them, on a small schema written for the test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from course_authoring.benchmark_reports import GENERATED_KEY
from course_authoring.kubernetes_settings import known_settings, main, unknown_settings

TINY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "hub": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "port": {"type": "integer"},
                "config": {"type": "object", "additionalProperties": False,
                           "patternProperties": {"^[A-Z]": {"type": "object",
                                                            "additionalProperties": True}}},
                "files": {"type": "object", "additionalProperties": False,
                          "patternProperties": {".*": {"type": "object",
                                                       "additionalProperties": False,
                                                       "properties": {"path": {}}}}},
            },
        },
        "labels": {"type": "object"},  # names no key and does not close itself: any key
        "secret": {"type": "object", "if": {"properties": {"create": {"const": True}}},
                   "then": {"additionalProperties": False,
                            "properties": {"create": {}, "password": {}}}},
    },
}


def test_extraction_lists_every_setting_path_with_wildcards_and_free_form_maps() -> None:
    known = known_settings(TINY_SCHEMA)
    assert known["settings"] == ["hub", "hub.config", "hub.config.*", "hub.files", "hub.files.*",
                                 "hub.files.*.path", "hub.port", "labels", "secret",
                                 "secret.create", "secret.password"], known["settings"]
    assert known["free_form"] == ["hub.config.*", "labels"], known["free_form"]
    assert known["key_patterns"] == {"hub.config.*": "(?:^[A-Z])"}, known["key_patterns"]


def test_extracted_settings_accept_and_reject_as_the_schema_does() -> None:
    known = known_settings(TINY_SCHEMA)
    good = {"hub": {"port": 1, "config": {"App": {"any": {"thing": 1}}},
                    "files": {"a": {"path": "/x"}}},
            "labels": {"a": {"b": 1}}, "secret": {"create": True, "password": "x"}}
    assert unknown_settings(good, known) == [], "a value the schema allows was rejected"
    bad = {"hub": {"prot": 1, "config": {"app": {}}, "files": {"a": {"pth": "/x"}},
                   "port": {"nested": 1}}, "other": 1}
    assert unknown_settings(bad, known) == ["hub.prot", "hub.config.app", "hub.files.a.pth",
                                            "hub.port.nested", "other"], \
        "a misspelled key, a key against its pattern or a map under a plain value got through"


def test_extraction_refuses_a_key_that_a_dotted_path_cannot_hold() -> None:
    with pytest.raises(ValueError, match="dotted path"):
        known_settings({"type": "object", "properties": {"a.b": {"type": "string"}}})


def test_the_command_writes_the_settings_file_marked_as_generated(tmp_path: Path) -> None:
    schema = tmp_path / "values.schema.json"
    schema.write_text(json.dumps(TINY_SCHEMA))
    output = tmp_path / "settings.json"
    main([str(schema), "--chart-version", "9.9.9", "--commit", "0" * 40,
          "--output", str(output)])
    written = json.loads(output.read_text())
    assert list(written)[0] == GENERATED_KEY, "the file does not say first that it is generated"
    assert written["chart"]["version"] == "9.9.9" and written["chart"]["commit"] == "0" * 40, \
        written["chart"]
    assert str(tmp_path) not in output.read_text(), "the file holds a path of this machine"
    assert written["settings"] == known_settings(TINY_SCHEMA)["settings"], "settings differ"
