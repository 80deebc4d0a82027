"""Page forms. They parse input; the rules live in the services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.forms import formset_factory

from .audio_probe import ALLOWED_EXTENSIONS
from .errors import DomainError
from .models import OfficialStem, Party
from .terms import TERM_KEYS, TERM_LABELS


class AccessibleForm(forms.Form):
    """Ties each field's errors to its input (aria-describedby, aria-invalid)."""

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["aria-invalid"] = "true"
                described = f"{self[name].auto_id}_error"
                existing = widget.attrs.get("aria-describedby", "")
                if described not in existing:
                    widget.attrs["aria-describedby"] = f"{existing} {described}".strip()

    def add_domain_error(self, error: DomainError) -> None:
        """Show a service's refusal on the fields it names, else on the form."""
        placed = False
        for name, messages in error.fields.items():
            target = name.replace(".", "_")
            if target in self.fields:
                for message in messages:
                    self.add_error(target, message)
                placed = True
        all_messages = [m for messages in error.fields.values() for m in messages]
        if not placed or error.message not in all_messages:
            self.add_error(None, error.message)


class TermsForm(AccessibleForm):
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional; kept in your consent history.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key in TERM_KEYS:
            self.fields[key] = forms.BooleanField(required=False, label=TERM_LABELS[key])
        self.order_fields([*TERM_KEYS, "reason"])

    def terms(self) -> dict:
        return {key: bool(self.cleaned_data.get(key)) for key in TERM_KEYS}


class ReasonForm(AccessibleForm):
    reason = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class TakedownForm(AccessibleForm):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ClaimSearchForm(forms.Form):
    q = forms.CharField(label="Artist name or IPI", required=False, max_length=200)


class PartyChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Party) -> str:
        return obj.name


class UploadForm(AccessibleForm):
    audio = forms.FileField(
        help_text="WAV, FLAC, MP3, OGG or M4A; 1 second to 15 minutes.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_EXTENSIONS)}),
    )
    title = forms.CharField(max_length=300)
    main_artists = PartyChoiceField(queryset=Party.objects.none())
    featured_artists = PartyChoiceField(queryset=Party.objects.none(), required=False)
    isrc = forms.CharField(label="ISRC", required=False, help_text="For example US-RC1-76-07839.")
    work_title = forms.CharField(
        label="Composition title", required=False, help_text="Defaults to the recording title."
    )
    iswc = forms.CharField(label="ISWC", required=False, help_text="For example T-034.524.680-1.")
    genre = forms.CharField(required=False, max_length=60)
    mood = forms.CharField(required=False, help_text="Comma-separated, e.g. dreamy, upbeat.")
    tempo_bpm = forms.IntegerField(label="Tempo (BPM)", required=False)
    key = forms.CharField(required=False, help_text='Like "A minor".')

    def __init__(self, *args, main_choices=None, featured_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["main_artists"].queryset = main_choices or Party.objects.none()
        self.fields["featured_artists"].queryset = featured_choices or Party.objects.none()
        for stem in OfficialStem.Name.values:
            self.fields[f"stems_{stem}"] = forms.FileField(
                label=f"{OfficialStem.Name(stem).label} stem (optional)", required=False
            )

    def stems(self) -> dict:
        return {
            name: self.cleaned_data[f"stems_{name}"]
            for name in OfficialStem.Name.values
            if self.cleaned_data.get(f"stems_{name}")
        }


class ShareForm(forms.Form):
    party = forms.ModelChoiceField(queryset=Party.objects.none(), required=False)
    percent = forms.DecimalField(label="Share (%)", required=False, max_digits=6, decimal_places=2)

    def __init__(self, *args, parties=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = parties if parties is not None else Party.objects.none()

    def share(self):
        party, percent = self.cleaned_data.get("party"), self.cleaned_data.get("percent")
        if party is None and percent is None:
            return None
        if party is None or percent is None:
            raise DomainError(
                "Each row needs a party and a share.", fields={"shares": ["Incomplete row."]}
            )
        # Percent with two decimals is exactly basis points; no float involved.
        return party, int((percent * Decimal(100)).to_integral_value())


ShareFormSet = formset_factory(ShareForm, extra=0, min_num=6, max_num=12)
