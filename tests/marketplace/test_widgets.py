"""PlainSelect draws the same markup as Django's Select, escaped the same way."""

from __future__ import annotations

import re

from django import forms

from marketplace.widgets import PlainSelect

CHOICES = [("", "Any track"), ('x"<', "Tom & <b>Jerry</b>"), ("7", "Seven")]


class Filters(forms.Form):
    stock = forms.ChoiceField(choices=CHOICES, required=False)
    plain = forms.ChoiceField(choices=CHOICES, required=False, widget=PlainSelect)


def _markup(html: str, name: str) -> str:
    html = html.replace(f'name="{name}"', 'name="F"').replace(f"id_{name}", "id_F")
    return re.sub(r">\s+<", "><", html.strip())


def test_plain_select_matches_the_stock_widget():
    for data in ({"stock": 'x"<', "plain": 'x"<'}, {}, {"stock": "7", "plain": "7"}):
        form = Filters(data or None)
        form.is_valid()
        plain = str(form["plain"])
        assert _markup(plain, "plain") == _markup(str(form["stock"]), "stock")
    assert "<b>" not in plain and "Tom &amp; &lt;b&gt;Jerry" in plain
