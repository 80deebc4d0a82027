"""Serializer fields every app's API shares."""

from __future__ import annotations

from rest_framework import serializers

from .json_limits import JSONRejected, json_loads_bounded, json_storable_check


class BoundedJSONField(serializers.JSONField):
    """A JSON value with its depth bounded and its strings storable.

    DRF's JSONField parses a form field's text itself with json.loads, past the
    body parser's limits, so the same checks run here for both routes."""

    def to_internal_value(self, data):
        try:
            if getattr(data, "is_json_string", False):
                data = json_loads_bounded(str(data))
            else:
                json_storable_check(data)
        except JSONRejected as error:
            raise serializers.ValidationError(str(error), code="invalid") from None
        return super().to_internal_value(data)
