"""PythonWidgetRenderer draws the same markup as Django's templates, escaped the same way."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.template import engines

from marketplace.browse.forms import CatalogFilterForm
from marketplace.widgets import PythonWidgetRenderer, field_blocks_html

CHOICES = [("", "Any track"), ('x"<', "Tom & <b>Jerry</b>"), ("7", "Seven")]
GROUPED = [("Keys", [("a", "A minor"), ("c", "C & major")]), ("", "None")]


class Filters(forms.Form):
    q = forms.CharField(required=False, max_length=10, widget=forms.TextInput(
        attrs={"type": "search", "placeholder": 'Title "or" <artist>'}
    ))  # fmt: skip
    pick = forms.ChoiceField(choices=CHOICES, required=False)
    grouped = forms.ChoiceField(choices=GROUPED, required=False)
    number = forms.IntegerField(required=False, min_value=1, max_value=300)
    many = forms.MultipleChoiceField(choices=CHOICES, required=False)
    flag = forms.BooleanField(required=False)
    picked_id = forms.IntegerField(required=False, widget=forms.Select(choices=[(7, "Seven")]))


class PlainFilters(Filters):
    default_renderer = PythonWidgetRenderer


def _markup(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"q": 'a"<b>&', "pick": 'x"<', "grouped": "c", "number": "12", "flag": "on"},
        {"q": "x" * 40, "pick": "nope", "number": "-3", "many": ["7", 'x"<'], "picked_id": "7"},
    ],
)
def test_the_python_renderer_matches_django_for_every_field(data):
    stock, plain = Filters(data), PlainFilters(data)
    stock.is_valid(), plain.is_valid()
    for name in Filters.base_fields:
        assert _markup(str(plain[name])) == _markup(str(stock[name])), name
    drawn = str(plain["pick"])
    assert "<b>" not in drawn and "Tom &amp; &lt;b&gt;Jerry" in drawn


def test_the_catalog_filter_form_draws_as_django_would(db):
    data = {"q": '"velvet" <night>', "genre": "house", "tempo_min": "90", "tempo_max": "80"}
    plain = CatalogFilterForm(data)
    stock = CatalogFilterForm(data, renderer=forms.renderers.DjangoTemplates())
    assert not plain.is_valid() and not stock.is_valid()
    for name in CatalogFilterForm.base_fields:
        assert _markup(str(plain[name])) == _markup(str(stock[name])), name
    assert 'aria-invalid="true"' in str(plain["tempo_max"])


# The catalog's filter bar as a template loop drew it before field_blocks_html.
FIELD_LOOP = """{% for field in form %}{% if field.name != "show_all" %}
<div class="field">
  <label for="{{ field.id_for_label }}">{{ field.label }}</label>
  {{ field }}
  {% if field.errors %}<ul class="errorlist" id="{{ field.id_for_label }}-error">{% for e in field.errors %}<li>{{ e }}</li>{% endfor %}</ul>{% endif %}
</div>{% endif %}{% endfor %}"""  # noqa: E501


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"q": '"velvet" <night>', "genre": "house"},
        {"q": "x" * 200, "genre": "<b>nope</b>", "tempo_min": "90", "tempo_max": "80"},
    ],
)
def test_field_blocks_draw_what_the_template_loop_drew(db, data):
    form = CatalogFilterForm(data)
    form.is_valid()
    loop = engines["django"].from_string(FIELD_LOOP).render({"form": form})
    drawn = field_blocks_html(form, exclude=("show_all",))
    assert _markup(drawn) == _markup(loop)
    if data and "tempo_max" in data:
        assert 'id="id_tempo_max-error"' in drawn and "<b>" not in drawn
