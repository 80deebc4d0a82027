"""Body parsers for the API that read at most the body size limit and refuse
JSON nested too deeply before json.loads sees it (see catalog.json_limits)."""

from __future__ import annotations

from django.conf import settings
from django.http import QueryDict
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError

from catalog.json_limits import JSONRejected, json_loads_bounded


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The request body is larger than the limit."


def _read_capped(stream) -> bytes:
    """The body, or RequestTooLarge as soon as it passes the limit."""
    if stream is None:
        return b""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return stream.read()
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise RequestTooLarge()
    return body


class BoundedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = _read_capped(stream).decode(encoding)
        except UnicodeDecodeError:
            raise ParseError(f"The body is not valid {encoding} text.") from None
        try:
            return json_loads_bounded(text)
        except JSONRejected as error:
            raise ParseError(str(error)) from None


class BoundedFormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        return QueryDict(_read_capped(stream), encoding=encoding)
