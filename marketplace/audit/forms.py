"""Audit search forms. Searches are forgiving: a value that does not parse is
left out of the search rather than refused, as a librarian would."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from catalog.identifiers import MAX_ROW_ID
from remixing.models import Remix

# Date filters compare against the day after "to"; that day must exist too.
DAY_RANGE = [MinValueValidator(date(1900, 1, 1)), MaxValueValidator(date(9999, 12, 30))]


class _ForgivingForm(forms.Form):
    def values(self) -> dict:
        """Every field's cleaned value; a field that did not validate is empty."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned.get(name) for name in self.fields}


def _text() -> forms.CharField:
    return forms.CharField(required=False, max_length=200)


def _day() -> forms.DateField:
    return forms.DateField(required=False, validators=DAY_RANGE)


def _id() -> forms.IntegerField:
    return forms.IntegerField(required=False, min_value=1, max_value=MAX_ROW_ID)


class RemixFilterForm(_ForgivingForm):
    artist = _text()
    recording = _text()
    fan = _text()
    status = forms.ChoiceField(required=False, choices=[("", "Any"), *Remix.Status.choices])
    date_from = _day()
    date_to = _day()
    party_id = _id()
    recording_id = _id()


class LogFilterForm(_ForgivingForm):
    action = _text()
    actor = _text()
    date_from = _day()
    date_to = _day()


class DateRangeForm(_ForgivingForm):
    date_from = _day()
    date_to = _day()


def query_data(get, **renamed: str) -> dict:
    """The query string with its public names (?from=, ?party=) mapped to fields."""
    data = {key: get.get(key) for key in get}
    for field, param in renamed.items():
        data[field] = get.get(param)
    return data
