"""Validate API responses against the served OpenAPI document."""

from __future__ import annotations

from jsonschema import Draft202012Validator
from referencing import Registry, Resource


class OpenApiChecker:
    def __init__(self, document: dict) -> None:
        self.document = document
        resource = Resource.from_contents(
            document,
            default_specification=__import__(
                "referencing.jsonschema", fromlist=["DRAFT202012"]
            ).DRAFT202012,
        )
        self.registry = Registry().with_resource("urn:openapi", resource)

    def schema_for(self, path: str, method: str, status: int) -> dict:
        operation = self.document["paths"][path][method.lower()]
        responses = operation["responses"]
        response = responses.get(str(status))
        assert response is not None, (
            f"{method} {path} answered {status}, which the document does not list"
        )
        return response["content"]["application/json"]["schema"]

    def check(self, path: str, method: str, response) -> None:
        """Assert ``response`` (a Flask test response) matches the documented schema."""
        schema = self.schema_for(path, method, response.status_code)
        if "$ref" in schema:
            schema = {"$ref": "urn:openapi" + schema["$ref"]}
        validator = Draft202012Validator(schema, registry=self.registry)
        errors = list(validator.iter_errors(response.get_json()))
        assert errors == [], [e.message for e in errors]
