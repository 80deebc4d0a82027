"""The catalog's search and filter form."""

from __future__ import annotations

from typing import cast

from django import forms

from catalog.selectors import recording_facets
from marketplace.widgets import PythonWidgetRenderer


class CatalogFilterForm(forms.Form):
    # Drawn on every browse request, with new words each time: see marketplace.widgets.
    default_renderer = PythonWidgetRenderer

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Title, artist or songwriter"}
        ),
    )
    genre = forms.ChoiceField(label="Genre", required=False)
    mood = forms.ChoiceField(label="Mood", required=False)
    key = forms.ChoiceField(label="Key", required=False)
    tempo_min = forms.IntegerField(
        label="Tempo from (BPM)", required=False, min_value=20, max_value=300
    )
    tempo_max = forms.IntegerField(
        label="Tempo to (BPM)", required=False, min_value=20, max_value=300
    )
    show_all = forms.BooleanField(
        label="Also show tracks that can't be remixed yet", required=False
    )

    def __init__(self, *args, listing_version: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        facets = recording_facets(version=listing_version)
        choice = lambda name: cast(forms.ChoiceField, self.fields[name])  # noqa: E731
        choice("genre").choices = [("", "Any genre"), *((g, g) for g in facets.genres)]
        choice("key").choices = [("", "Any key"), *((k, k) for k in facets.keys)]
        choice("mood").choices = [
            ("", "Any mood"),
            *((m, m.capitalize()) for m in facets.moods),
        ]

    def clean(self):
        data = super().clean()
        low, high = data.get("tempo_min"), data.get("tempo_max")
        if low and high and low > high:
            self.add_error("tempo_max", "Must be at least the lower tempo.")
        return data
