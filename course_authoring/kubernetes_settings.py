"""The settings a Zero to JupyterHub Helm chart knows, read from its values schema (maintainers).

``python -m course_authoring.kubernetes_settings values.schema.yaml --chart-version V --commit C``
writes ``deploy/kubernetes/z2jh_settings.json``: every setting path of the chart, with ``*`` for
a key the chart lets you name, and the paths below which any key is accepted. The test of
``deploy/kubernetes/values.yaml`` checks each of its settings against that file with
:func:`unknown_settings`, without helm and without the chart's own text in this repository.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from course_authoring.benchmark_reports import write_report

__all__ = ["OUTPUT", "WILDCARD", "known_settings", "load_settings", "main", "unknown_settings"]

OUTPUT = Path(__file__).resolve().parent.parent / "deploy" / "kubernetes" / "z2jh_settings.json"
WILDCARD = "*"  # a path segment that stands for any key the user names
SCRIPT = "python -m course_authoring.kubernetes_settings"
# subschemas whose keys belong to the object itself (z2jh puts some under if/then)
MERGED = ("then", "else")
COMBINED = ("allOf", "anyOf", "oneOf")


def _parts(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """``node`` and the subschemas that add keys to the same object."""
    yield node
    for key in MERGED:
        if isinstance(node.get(key), Mapping):
            yield from _parts(node[key])
    for key in COMBINED:
        for sub in node.get(key) or []:
            if isinstance(sub, Mapping):
                yield from _parts(sub)


def _walk(node: Mapping[str, Any], path: tuple[str, ...], found: dict[str, Any]) -> None:
    """Record ``path`` and everything below it in ``found`` (settings, free_form, key_patterns)."""
    dotted = ".".join(path)
    if path:
        found["settings"].add(dotted)
    parts = list(_parts(node))
    children: dict[str, list[Mapping[str, Any]]] = {}
    wildcard: list[Mapping[str, Any]] = []
    patterns: list[str] = []
    open_map = False
    for part in parts:
        for name, sub in (part.get("properties") or {}).items():
            if "." in name or name == WILDCARD:
                raise ValueError(f"setting {dotted}.{name} cannot be written as a dotted path")
            children.setdefault(name, []).append(sub)
        for pattern, sub in (part.get("patternProperties") or {}).items():
            wildcard.append(sub)
            patterns.append(pattern)
        extra = part.get("additionalProperties")
        if extra is True:
            open_map = True
        elif isinstance(extra, Mapping):
            wildcard.append(extra)
            patterns.append(".*")
    types = {kind for part in parts for kind in (part.get("type") if isinstance(
        part.get("type"), list) else [part.get("type")])}
    # JSON Schema's default: an object that names no keys and does not close itself takes any key
    if ("object" in types and not children and not wildcard
            and all("additionalProperties" not in part for part in parts)):
        open_map = True
    if open_map and path:
        found["free_form"].add(dotted)
        return
    for name, subs in children.items():
        _walk({"allOf": subs}, (*path, name), found)
    if wildcard:
        if any(pattern not in (".*", "^.*$") for pattern in patterns):
            found["key_patterns"][".".join((*path, WILDCARD))] = "|".join(
                f"(?:{pattern})" for pattern in patterns)
        _walk({"allOf": wildcard}, (*path, WILDCARD), found)


def known_settings(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A values schema's ``settings`` (dotted paths, ``*`` for a key the user names), ``free_form``
    paths (any key below) and ``key_patterns`` (what a ``*`` key must match, where given)."""
    found: dict[str, Any] = {"settings": set(), "free_form": set(), "key_patterns": {}}
    _walk(schema, (), found)
    return {"wildcard": WILDCARD, "settings": sorted(found["settings"]),
            "free_form": sorted(found["free_form"]),
            "key_patterns": dict(sorted(found["key_patterns"].items()))}


@dataclass
class _Node:
    """One segment of the known settings: its children, and whether any key is accepted below."""

    children: dict[str, _Node] = field(default_factory=dict)
    free_form: bool = False


def _tree(known: Mapping[str, Any]) -> _Node:
    """The known settings as a tree of segments."""
    root = _Node()
    for path in known["settings"]:
        node = root
        for segment in path.split("."):
            node = node.children.setdefault(segment, _Node())
    for path in known["free_form"]:
        node = root
        for segment in path.split("."):
            node = node.children[segment]
        node.free_form = True
    return root


def unknown_settings(values: Mapping[str, Any], known: Mapping[str, Any]) -> list[str]:
    """Every path of ``values`` (a parsed values file) that the chart of ``known`` does not know;
    below a free-form setting nothing is checked."""
    patterns = {path: re.compile(pattern) for path, pattern in known["key_patterns"].items()}
    unknown: list[str] = []

    def visit(mapping: Mapping[str, Any], node: _Node, path: list[str], known_path: str) -> None:
        for key, value in mapping.items():
            key = str(key)
            segment = key if key in node.children else WILDCARD
            pattern = patterns.get(f"{known_path}.{segment}".lstrip("."))
            child = node.children.get(segment)
            if child is None or (segment == WILDCARD and pattern and not pattern.search(key)):
                unknown.append(".".join([*path, key]))
            elif not child.free_form and isinstance(value, Mapping):
                visit(value, child, [*path, key], f"{known_path}.{segment}".lstrip("."))

    visit(values, _tree(known), [], "")
    return unknown


def load_settings(path: Path = OUTPUT) -> dict[str, Any]:
    """The settings file written by :func:`main` (``deploy/kubernetes/z2jh_settings.json``)."""
    return json.loads(Path(path).read_text())


def main(argv: list[str] | None = None) -> int:
    """Write the settings of the chart whose ``values.schema.yaml`` (or ``.json``) is given."""
    parser = argparse.ArgumentParser(prog=SCRIPT, description=__doc__.splitlines()[0])
    parser.add_argument("schema", type=Path,
                        help="the chart's jupyterhub/values.schema.yaml (git) or "
                             "values.schema.json (helm pull --untar)")
    parser.add_argument("--chart-version", required=True, help="the chart's version, e.g. 4.4.0")
    parser.add_argument("--commit", required=True,
                        help="the commit of zero-to-jupyterhub-k8s the schema comes from")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    text = args.schema.read_bytes()
    settings = known_settings(yaml.safe_load(text))  # YAML 1.2 reads JSON too
    command = (f"{SCRIPT} {args.schema.name} --chart-version {args.chart_version} "
               f"--commit {args.commit}")
    report = {
        "chart": {"name": "jupyterhub", "version": args.chart_version, "commit": args.commit,
                  "repository": "https://github.com/jupyterhub/zero-to-jupyterhub-k8s",
                  "schema": args.schema.name,
                  "schema_sha256": hashlib.sha256(text).hexdigest()},
        "command": command,
        **settings,
    }
    write_report(args.output, report, SCRIPT)
    print(f"{args.output}: {len(settings['settings'])} settings, "
          f"{len(settings['free_form'])} free-form")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
