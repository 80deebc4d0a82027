"""The API's error answers, written into the OpenAPI schema.

Every refusal has one shape (marketplace.api's exception handler and the
middleware refusals): ``{"error": {"code", "message", "fields"}}``. Which
refusals an operation can give follows from what it is, not from each view:

- 400 bad input (a field, a malformed body, a NUL anywhere);
- 403 not signed in, not allowed, or no CSRF token (session authentication);
- 404 an id in the path that does not exist, or that the caller may not know of;
- 405 a method the path does not take;
- 409 a write the object's state forbids now (consent revoked, already published);
- 413 a body over the size limit; 415 a body that is not JSON;
- 429 over a rate limit; 503 the database is away for a moment.

drf-spectacular calls ``document_error_responses`` after generating the
schema (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]).
"""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}
ALWAYS = {
    "400": "The request is not valid input; `fields` says what to correct.",
    "403": "Not signed in, not allowed, or no CSRF token.",
    "405": "This path does not take this method.",
    "429": "Too many requests in a short time; Retry-After says when to try again.",
    "503": "The service is briefly unavailable; Retry-After says when to try again.",
}
WITH_PATH_IDS = {"404": "No such object, or not one the caller may see."}
WITH_BODY = {
    "409": "The object's state does not allow this now.",
    "413": "The request body is larger than the limit.",
    "415": "The request body is not JSON.",
}
WRITES = {"post", "put", "patch", "delete"}


def error_responses_for(*, method: str, has_path_parameters: bool) -> dict[str, str]:
    """The refusals an operation of this kind can answer with."""
    codes = dict(ALWAYS)
    if has_path_parameters:
        codes.update(WITH_PATH_IDS)
    if method in WRITES:
        codes.update(WITH_BODY)
    return codes


def document_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: add the error answers each
    operation can give (never overwriting one a view documents itself, whose
    description stays: it only gets the error shape)."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(ERROR_COMPONENT, ERROR_SCHEMA)
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path, operations in result.get("paths", {}).items():
        has_ids = "{" in path
        for method, operation in operations.items():
            if method not in {"get", "head", "options", *WRITES}:
                continue
            responses = operation.setdefault("responses", {})
            for code, answer in responses.items():
                # A refusal a view documents in its own words has the one shape too.
                if code[:1] in "45" and "content" not in answer:
                    answer["content"] = {"application/json": {"schema": reference}}
            for code, description in error_responses_for(
                method=method, has_path_parameters=has_ids
            ).items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result
