"""Stripe's published OpenAPI spec (version 2020-08-27), vendored with its MIT license.

Files (from github.com/stripe/openapi at commit e0123a38b40c8d840b4c0469ac0ee1650b6bfea3,
``openapi/``): ``spec3.json``, ``fixtures3.json`` (example objects) and ``LICENSE`` (MIT).

Used for two things:

* :func:`request_param_names` -- the sandbox rejects request params that Stripe itself would
  reject as unknown (so a typo such as ``metdata`` fails here, not first in production);
* :func:`response_validator` -- validates response bodies against the spec's 200-response
  schema for a path+method (used by the test suite). OpenAPI 3.0 is not JSON Schema:
  ``nullable: true`` is translated into ``anyOf [..., {"type": "null"}]`` and ``$ref``s into
  ``#/components/schemas`` are resolved against the translated components.

``jsonschema`` is only imported by the validation helpers, so the server itself runs on the
standard library alone.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("spec3.json")
FIXTURES_PATH = Path(__file__).with_name("fixtures3.json")
LICENSE_PATH = Path(__file__).with_name("LICENSE")
SPEC_VERSION = "2020-08-27"


@functools.lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as fh:
        spec: dict[str, Any] = json.load(fh)
    return spec


@functools.lru_cache(maxsize=1)
def load_fixtures() -> dict[str, Any]:
    """Stripe's example objects (``fixtures3.json`` from the same commit), keyed by object type."""
    with FIXTURES_PATH.open(encoding="utf-8") as fh:
        resources: dict[str, Any] = json.load(fh)["resources"]
    return resources


def operation(method: str, path: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = load_spec()["paths"].get(path, {}).get(method.lower())
    return found


@functools.cache
def request_param_names(method: str, path: str) -> frozenset[str] | None:
    """Top-level parameter names the spec accepts for an operation (None if unknown)."""
    op = operation(method, path)
    if op is None:
        return None
    names = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
    form = op.get("requestBody", {}).get("content", {}).get("application/x-www-form-urlencoded", {})
    names.update(form.get("schema", {}).get("properties", {}))
    names.add("expand")
    return frozenset(names)


def to_jsonschema(node: Any) -> Any:
    """Translate an OpenAPI 3.0 schema (recursively) into JSON Schema 2020-12."""
    if isinstance(node, list):
        return [to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_jsonschema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


@functools.lru_cache(maxsize=1)
def _components() -> dict[str, Any]:
    components: dict[str, Any] = to_jsonschema(load_spec()["components"])
    return components


def response_schema(method: str, path: str, status: str = "200") -> dict[str, Any]:
    op = operation(method, path)
    if op is None:
        raise KeyError(f"{method.upper()} {path} is not in the spec")
    schema = op["responses"][status]["content"]["application/json"]["schema"]
    # Carry the translated components alongside so "#/components/schemas/..." refs resolve.
    return {**to_jsonschema(schema), "components": _components()}


def component_schema(name: str) -> dict[str, Any]:
    """The schema of a resource (``customer``, ``checkout.session``...) by its ``object`` value."""
    if name not in load_spec()["components"]["schemas"]:
        raise KeyError(name)
    return {"$ref": f"#/components/schemas/{name}", "components": _components()}


def error_schema() -> dict[str, Any]:
    return component_schema("error")


@functools.cache
def _validator_for(method: str, path: str) -> Any:
    from jsonschema import Draft202012Validator

    if method == "COMPONENT":
        schema = component_schema(path)
    else:
        schema = response_schema(method, path)
    return Draft202012Validator(schema)


def response_validator(method: str, path: str) -> Any:
    """A cached ``jsonschema`` validator for ``METHOD path``'s 200 response."""
    return _validator_for(method.upper(), path)


def error_validator() -> Any:
    return _validator_for("COMPONENT", "error")


def object_validator(name: str) -> Any:
    return _validator_for("COMPONENT", name)


def _describe(err: Any) -> str:
    from jsonschema.exceptions import best_match

    # anyOf failures (expandable fields, nullable values) hide the useful message in .context.
    while err.context:
        err = best_match(err.context)
    where = "/".join(str(p) for p in err.absolute_path) or "<root>"
    return f"{where}: {err.message[:300]}"


def validation_errors(method: str, path: str, body: Any) -> list[str]:
    """Human-readable schema violations of ``body`` for ``METHOD path`` (empty when valid)."""
    return [_describe(err) for err in response_validator(method, path).iter_errors(body)]


def error_body_errors(body: Any) -> list[str]:
    return [_describe(err) for err in error_validator().iter_errors(body)]


def object_errors(body: dict[str, Any]) -> list[str]:
    """Schema violations of a resource validated against the component named by ``object``."""
    return [_describe(err) for err in object_validator(body["object"]).iter_errors(body)]
