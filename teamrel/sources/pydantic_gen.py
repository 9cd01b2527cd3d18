"""Generating a JSON Schema from a Pydantic model, in the direction a schema slot faces.

Owns the rules of the Pydantic source (docs/sources.md):
- a producer's slot is what the model *serialises* (`mode="serialization"`: a `Decimal` is a
  string, a `@computed_field` is present), a consumer's is what it *validates*;
- a serialisation schema is **closed**: every object schema generated from a model (or
  dataclass) whose config does not allow extra keys gets `additionalProperties: false`, since
  `model_dump` never emits an undeclared key; left open, it would yield false witnesses
  against closed consumers. A model with a custom serializer is left as Pydantic describes it;
- the document names its dialect (`$schema`: 2020-12), which Pydantic does not write.

This file is also the program `teamrel contracts sync` runs in a child interpreter (with the
project's Python path) to import the application's models: the models' import-time code then
cannot touch teamrel's process, its output or its module cache. It therefore imports nothing
from teamrel: only the standard library and pydantic. Request on stdin, answer on stdout:
`{"jobs": [{"model": "pkg.mod:Model", "mode": "validation"}]}` ->
`{"results": [{"schema": {...}} | {"error": "..."}]}`.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

#: The dialect every generated schema declares.
DIALECT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


class SourceProblem(Exception):
    """The model reference cannot be turned into a schema (the message says why)."""


def load_object(ref: str, what: str, example: str) -> Any:
    """The object `package.module:attr.path` names, importing its module; `what` and
    `example` word the error (`does not name a model: write 'package.module:Model'`)."""
    module_name, sep, attr_path = ref.partition(":")
    if not sep or not module_name or not attr_path:
        raise SourceProblem(f"does not name {what}: write 'package.module:{example}'")
    try:
        obj: Any = importlib.import_module(module_name)
    except BaseException as err:  # SystemExit raised by import-time code, too
        raise SourceProblem(
            f"module {module_name!r} does not import: {type(err).__name__}: {err}"
        ) from None
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            where = getattr(obj, "__name__", module_name)
            raise SourceProblem(f"{where!r} has no attribute {part!r}")
        obj = getattr(obj, part)
    return obj


def load_model(ref: str) -> type[Any]:
    """The `BaseModel` subclass `package.module:Model` names (importing its module)."""
    from pydantic import BaseModel

    obj = load_object(ref, "a model", "Model")
    if not (isinstance(obj, type) and issubclass(obj, BaseModel)):
        what = f"the class {obj.__name__!r}" if isinstance(obj, type) else type(obj).__name__
        raise SourceProblem(f"is not a Pydantic model (a BaseModel subclass): it is {what}")
    return obj


def model_schema(model: type[Any], mode: str) -> dict[str, Any]:
    """The JSON Schema of `model` in `mode` (`validation` | `serialization`), see above."""
    from pydantic.json_schema import GenerateJsonSchema
    from pydantic_core import core_schema

    def closed(schema: dict[str, Any], cls: Any, extra: Any) -> dict[str, Any]:
        if (
            schema.get("type") == "object"
            and "additionalProperties" not in schema
            and extra != "allow"
            and not getattr(cls, "__pydantic_root_model__", False)
        ):
            schema["additionalProperties"] = False
        return schema

    class Generator(GenerateJsonSchema):
        def model_schema(self, schema: core_schema.ModelSchema) -> dict[str, Any]:
            out = super().model_schema(schema)
            if self.mode != "serialization":
                return out
            cls = schema["cls"]
            return closed(out, cls, cls.model_config.get("extra"))

        def dataclass_schema(self, schema: core_schema.DataclassSchema) -> dict[str, Any]:
            out = super().dataclass_schema(schema)
            if self.mode != "serialization":
                return out
            cls = schema["cls"]
            config = getattr(cls, "__pydantic_config__", None) or {}
            return closed(out, cls, config.get("extra"))

    if mode not in ("validation", "serialization"):
        raise SourceProblem(f"unknown mode {mode!r}: validation or serialization")
    try:
        raw = model.model_json_schema(mode=mode, schema_generator=Generator)
    except Exception as err:  # whatever the model's own schema code raises
        raise SourceProblem(
            f"Pydantic cannot generate its JSON Schema: {type(err).__name__}: {err}"
        ) from None
    return {"$schema": DIALECT_2020_12, **{k: v for k, v in raw.items() if k != "$schema"}}


def schema_of(ref: str, mode: str) -> dict[str, Any]:
    """Import the model `ref` names and generate its schema in `mode`."""
    return model_schema(load_model(ref), mode)


def _main() -> None:
    out = sys.stdout
    # the application's import-time prints must not corrupt the answer
    sys.stdout = sys.stderr
    request = json.load(sys.stdin)
    results: list[dict[str, Any]] = []
    for job in request["jobs"]:
        try:
            schema = schema_of(job["model"], job["mode"])
            json.dumps(schema, allow_nan=False)
            results.append({"schema": schema})
        except SourceProblem as err:
            results.append({"error": str(err)})
        except ValueError as err:  # NaN or an infinity in a default or a bound
            results.append({"error": f"its JSON Schema is not JSON: {err}"})
    out.write(json.dumps({"results": results}))
    out.flush()


if __name__ == "__main__":
    _main()
