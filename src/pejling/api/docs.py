"""The browsable API reference at ``/api/v1/docs``: every endpoint of the OpenAPI document with
its parameters, request body and responses, server-rendered in the base template.

Ninja's own docs page loads Swagger UI from a CDN, which our Content-Security-Policy (and a
closed network) forbids, so it is switched off and this page reads the same document instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Field:
    name: str
    type: str
    required: bool
    description: str = ""
    location: str = ""


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    tag: str
    anchor: str
    parameters: list[Field]
    body: str | None
    body_fields: list[Field]
    responses: list[tuple[str, str]]
    secured: bool


@dataclass
class SchemaDoc:
    name: str
    fields: list[Field] = field(default_factory=list)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_of(schema: dict[str, Any]) -> str:
    """A short readable type for a JSON schema: ``string (date)``, ``list of UnitOut``..."""
    if "$ref" in schema:
        return _ref_name(schema["$ref"])
    if "anyOf" in schema:
        return " | ".join(type_of(s) for s in schema["anyOf"])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return type_of(schema["allOf"][0])
    if "enum" in schema:
        return " | ".join(repr(v) if v == "" else str(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {type_of(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        return f"map of {type_of(extra) if isinstance(extra, dict) else 'any'}"
    if kind == "null":
        return "null"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


def _fields(schema: dict[str, Any]) -> list[Field]:
    required = set(schema.get("required", []))
    return [
        Field(name, type_of(prop), name in required, prop.get("description", ""))
        for name, prop in schema.get("properties", {}).items()
    ]


def _body(operation: dict[str, Any], components: dict[str, Any]) -> tuple[str | None, list[Field]]:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None, []
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return name, _fields(components.get(name, {}))
    return type_of(schema), []


def operations(document: dict[str, Any]) -> list[Operation]:
    components = document.get("components", {}).get("schemas", {})
    result = []
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            parameters = [
                Field(
                    p["name"],
                    type_of(p.get("schema", {})),
                    bool(p.get("required")),
                    p.get("description", p.get("schema", {}).get("description", "")),
                    p.get("in", ""),
                )
                for p in op.get("parameters", [])
            ]
            body, body_fields = _body(op, components)
            by_body: dict[str, list[Any]] = {}  # "400, 401, 403 → ErrorOut" on one row
            for status, response in op.get("responses", {}).items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                by_body.setdefault(type_of(schema) if schema else "", []).append(status)
            responses = [(", ".join(map(str, codes)), body) for body, codes in by_body.items()]
            result.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    summary=op.get("summary", ""),
                    description=op.get("description", ""),
                    tag=(op.get("tags") or [""])[0],
                    anchor=op.get("operationId", f"{method}-{path}"),
                    parameters=parameters,
                    body=body,
                    body_fields=body_fields,
                    responses=responses,
                    secured=bool(op.get("security")),
                )
            )
    return result


def schemas(document: dict[str, Any]) -> list[SchemaDoc]:
    components = document.get("components", {}).get("schemas", {})
    return [SchemaDoc(name, _fields(schema)) for name, schema in sorted(components.items())]


def docs_page(request: HttpRequest, document: dict[str, Any], openapi_url: str) -> HttpResponse:
    ops = operations(document)
    tags: dict[str, list[Operation]] = {}
    for op in ops:
        tags.setdefault(op.tag, []).append(op)
    context = {
        "info": document.get("info", {}),
        "tags": tags,
        "operation_count": len(ops),
        "schemas": schemas(document),
        "openapi_url": openapi_url,
    }
    return render(request, "api/docs.html", context)
