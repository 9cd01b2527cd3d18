"""Test helpers for check/plan: write small workspaces and release them as base manifests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from teamrel.manifest import build_manifest, write_manifest, write_snapshot
from teamrel.models import SchemaDoc
from teamrel.workspace import load_workspace

S2020 = "https://json-schema.org/draft/2020-12/schema"


def closed(required: list[str], **properties: Any) -> dict[str, Any]:
    """A closed object schema."""
    return {
        "$schema": S2020,
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
    }


def agent(version: str, input_: str, output: str, prompt: str, **extra: Any) -> dict[str, Any]:
    """An agent entry of teamrel.yaml."""
    return {
        "version": version,
        "model": {"provider": "anthropic", "id": "claude-sonnet-4-5-20250929"},
        "prompt": prompt,
        "input": input_,
        "output": output,
        **extra,
    }


def write_workspace(
    root: Path,
    *,
    members: dict[str, Any],
    handoffs: list[dict[str, Any]],
    files: dict[str, Any],
    team: str = "t",
) -> Path:
    """Write teamrel.yaml and the given files (JSON documents or text) under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_text(json.dumps(content, indent=2), encoding="utf-8")
    doc = {"team": team, "members": members, "handoffs": handoffs}
    (root / "teamrel.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return root


def release_base(root: Path, release: str = "r1", parent: str | None = None) -> str:
    """Release the workspace as it is now into manifests/<team>/ (manifest + snapshots)."""
    ws = load_workspace(root)
    for m in ws.members.values():
        write_snapshot(root, ws.team.team, m)
    manifest = build_manifest(
        ws.team.team,
        release,
        ws.members,
        created_at="2026-01-01T00:00:00Z",
        created_by="tests@teamrel",
        parent=parent,
    )
    write_manifest(root, manifest)
    return manifest.digest


def git(root: Path, *args: str) -> str:
    """Run git in `root` with a fixed identity."""
    proc = subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return proc.stdout


def validates(doc: dict[str, Any], instance: Any) -> bool:
    """Whether `instance` is valid under a SchemaDoc's JSON (python-jsonschema, with its
    resources registered)."""
    sd = SchemaDoc.model_validate(doc)
    resources = [(sd.uri, Resource.from_contents(sd.schema_, default_specification=DRAFT202012))]
    resources += [
        (uri, Resource.from_contents(c, default_specification=DRAFT202012))
        for uri, c in sd.resources.items()
    ]
    registry: Registry = Registry().with_resources(resources)
    schema = sd.schema_
    if isinstance(schema, dict) and "$id" not in schema:
        schema = {**schema, "$id": sd.uri}
    cls = jsonschema.validators.validator_for(schema)
    return bool(cls(schema, registry=registry).is_valid(instance))
