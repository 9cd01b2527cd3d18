"""The shipped manifest JSON Schema holds: it accepts every manifest teamrel writes, and it
lists the same keys, and requires the same ones, as the pydantic models at every level.

docs/manifest-format.md points readers in other languages at the schema; if a key were added
to the models without the schema (or the reverse), their readers would refuse real manifests.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from clikit import cli_runner
from conftest import REPO, copy_demo
from pydantic import BaseModel

from teamrel.cli.app import app
from teamrel.manifest import Manifest, ManifestMember, ModelPin

SCHEMA_PATH = REPO / "teamrel" / "schemas" / "manifest.schema.json"
EXAMPLES = sorted(p.parent.name for p in (REPO / "examples").glob("*/teamrel.yaml"))


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def _manifests(root: Path) -> list[Path]:
    return sorted(
        p
        for p in (root / "manifests").rglob("*.json")
        if "snapshots" not in p.relative_to(root).parts
    )


def _validate(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(_schema())
    doc = json.loads(path.read_text(encoding="utf-8"))
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)
    ]
    assert not errors, f"{path}: {errors}"


def test_the_schema_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(_schema())


def test_committed_manifests_are_accepted() -> None:
    found = [*_manifests(REPO), *(m for ex in EXAMPLES for m in _manifests(REPO / "examples" / ex))]
    assert len(found) >= 2
    for path in found:
        _validate(path)


@pytest.mark.parametrize("workspace", ["demo", *EXAMPLES])
def test_a_fresh_release_is_accepted(workspace: str, tmp_path: Path) -> None:
    """`teamrel release` (allowed past any finding, so every story releases) writes a
    manifest the schema accepts."""
    if workspace == "demo":
        root = copy_demo(tmp_path / "ws")
    else:
        root = tmp_path / "ws"
        shutil.copytree(REPO / "examples" / workspace, root)
        shutil.rmtree(root / "manifests", ignore_errors=True)
    db = f"sqlite:///{tmp_path / 'state.db'}"
    release = ["release", "--allow-incompatible", "--reason", "schema test", "--name", "r9"]
    result = cli_runner().invoke(
        app,
        ["-C", str(root), "--db", db, *release],
        env={"TEAMREL_ACTOR": "tester", "TEAMREL_DATABASE_URL": None},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    written = _manifests(root)
    assert [p.name for p in written] == ["r9.json"]
    _validate(written[0])


#: keys a model leaves out of the document when they are not declared
WRITTEN_WHEN_DECLARED: dict[type[BaseModel], set[str]] = {Manifest: {"flags"}}


def _object_at(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The object schema at `node`, following a local `$ref` or the object branch of a
    `oneOf` (`model: {...} | null`)."""
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        return _object_at(schema, schema["$defs"][name])
    for branch in node.get("oneOf", ()):
        if branch.get("type") == "object" or "$ref" in branch:
            return _object_at(schema, branch)
    return node


@pytest.mark.parametrize(
    ("model", "where"),
    [
        (Manifest, ()),
        (ManifestMember, ("properties", "members", "additionalProperties")),
        (ModelPin, ("properties", "members", "additionalProperties", "properties", "model")),
    ],
    ids=["manifest", "member", "model"],
)
def test_model_and_schema_list_the_same_keys(
    model: type[BaseModel], where: tuple[str, ...]
) -> None:
    schema = _schema()
    node: dict[str, Any] = schema
    for key in where:
        node = _object_at(schema, node[key])
    node = _object_at(schema, node)
    fields = set(model.model_fields)
    assert set(node["properties"]) == fields
    # teamrel writes every key (defaults included), except those written only when declared
    # (`flags`: so manifests of teams without flags keep their bytes): the schema requires
    # every other one
    assert set(node["required"]) == fields - WRITTEN_WHEN_DECLARED.get(model, set())
    # and both refuse a key they do not know
    assert node.get("additionalProperties") is False
    assert model.model_config.get("extra") == "forbid"
