"""Page forms. They parse input; the rules live in the services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.forms import formset_factory
from django.template.defaultfilters import filesizeformat

from core.errors import DomainError

from .audio_probe import ALLOWED_EXTENSIONS
from .identifiers import IdentifierError, normalize_ipi, row_id_or_none
from .models import OfficialStem, Party, WorkWriter
from .services import UploadConsent, WriterCredit
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

    def _check_values(self, value):
        # Refuse what cannot be an id before the database sees it: SQLite
        # overflows on an integer past the largest bigint.
        for given in value:
            if row_id_or_none(given) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": given},
                )
        return super()._check_values(value)


NEW_WRITER_ROWS = 2

CONSENT_LABELS = {
    UploadConsent.KEEP: {
        True: "Keep it covered by my catalog-wide consent",
        False: "Leave it not remixable for now (you can grant consent later in My catalog)",
    },
    # True to the ledger's rule (the latest statement wins), not a promise it cannot keep.
    UploadConsent.OPT_OUT: (
        "Opt this track out: not remixable until I allow it again "
        "(a later catalog-wide grant or terms change would cover it too)"
    ),
    UploadConsent.GRANT: "Allow remixes of this track (consent for this track only)",
}


def upload_consent_choices(*, covered: bool) -> list[tuple[str, str]]:
    """Two choices, worded for whether catalog-wide consent would cover the track."""
    other = UploadConsent.OPT_OUT if covered else UploadConsent.GRANT
    return [
        (UploadConsent.KEEP.value, CONSENT_LABELS[UploadConsent.KEEP][covered]),
        (other.value, CONSENT_LABELS[other]),
    ]


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
    writers = PartyChoiceField(
        label="Songwriters already in Clearmix",
        queryset=Party.objects.filter(kind=Party.Kind.SONGWRITER),
        required=False,
        help_text="Credited as composer and lyricist.",
    )
    i_wrote_it = forms.BooleanField(label="I wrote or co-wrote this song", required=False)
    my_writer_role = forms.ChoiceField(
        label="My writing role",
        choices=WorkWriter.Role.choices,
        initial=WorkWriter.Role.COMPOSER_LYRICIST,
        required=False,
    )
    genre = forms.CharField(required=False, max_length=60)
    mood = forms.CharField(required=False, help_text="Comma-separated, e.g. dreamy, upbeat.")
    tempo_bpm = forms.IntegerField(label="Tempo (BPM)", required=False, min_value=20, max_value=400)
    key = forms.CharField(required=False, help_text='Like "A minor".')

    def __init__(
        self,
        *args,
        main_choices=None,
        featured_choices=None,
        too_large=False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["main_artists"].queryset = main_choices or Party.objects.none()
        self.fields["featured_artists"].queryset = featured_choices or Party.objects.none()
        self._add_new_writer_fields()
        for stem in OfficialStem.Name.values:
            self.fields[f"stems_{stem}"] = forms.FileField(
                label=f"{OfficialStem.Name(stem).label} stem (optional)", required=False
            )
        self.too_large = too_large
        if too_large:
            # Reading stopped at the size cap, so the file and the fields after
            # it never arrived: "required" would blame the uploader wrongly.
            for field in self.fields.values():
                field.required = False

    def offer_consent(self, choices: list[tuple[str, str]]) -> None:
        """Ask the artist to decide for this track; there is no default, so the
        decision is made knowingly, with the notice above it in view."""
        self.fields["consent"] = forms.ChoiceField(
            label="Remixes of this track",
            choices=choices,
            widget=forms.RadioSelect,
            required=not self.too_large,
        )

    def _add_new_writer_fields(self) -> None:
        for row in range(1, NEW_WRITER_ROWS + 1):
            prefix = f"new_writer_{row}"
            self.fields[f"{prefix}_name"] = forms.CharField(
                label="Name", required=False, max_length=200
            )
            self.fields[f"{prefix}_role"] = forms.ChoiceField(
                label="Role",
                choices=WorkWriter.Role.choices,
                initial=WorkWriter.Role.COMPOSER_LYRICIST,
                required=False,
            )
            self.fields[f"{prefix}_ipi"] = forms.CharField(
                label="IPI (optional)", required=False, max_length=20, help_text="11 digits."
            )

    def new_writer_rows(self):
        """Bound fields per inline writer row, for the template."""
        return [
            [self[f"new_writer_{row}_{part}"] for part in ("name", "role", "ipi")]
            for row in range(1, NEW_WRITER_ROWS + 1)
        ]

    def clean(self):
        cleaned = super().clean()
        if self.too_large:
            limit = filesizeformat(settings.UPLOAD_MAX_BYTES)
            self.add_error("audio", f"The file is larger than the upload limit ({limit}).")
            return cleaned
        for row in range(1, NEW_WRITER_ROWS + 1):
            self._clean_new_writer(cleaned, f"new_writer_{row}")
        return cleaned

    def _clean_new_writer(self, cleaned: dict, prefix: str) -> None:
        name = (cleaned.get(f"{prefix}_name") or "").strip()
        ipi = (cleaned.get(f"{prefix}_ipi") or "").strip()
        if ipi and not name:
            self.add_error(f"{prefix}_name", "Give the writer's name with their IPI.")
        if ipi:
            try:
                cleaned[f"{prefix}_ipi"] = normalize_ipi(ipi)
            except IdentifierError as error:
                self.add_error(f"{prefix}_ipi", str(error))

    def writer_credits(self) -> list[WriterCredit]:
        data = self.cleaned_data
        default_role = WorkWriter.Role.COMPOSER_LYRICIST
        credits = [WriterCredit(party=party) for party in data.get("writers") or []]
        if data.get("i_wrote_it"):
            role = data.get("my_writer_role") or default_role
            credits.append(WriterCredit(role=role, is_uploader=True))
        for row in range(1, NEW_WRITER_ROWS + 1):
            name = (data.get(f"new_writer_{row}_name") or "").strip()
            if name:
                credits.append(
                    WriterCredit(
                        role=data.get(f"new_writer_{row}_role") or default_role,
                        name=name,
                        ipi=data.get(f"new_writer_{row}_ipi") or "",
                    )
                )
        return credits

    def consent_choice(self) -> str:
        return self.cleaned_data.get("consent") or UploadConsent.KEEP

    def main_artist_parties(self) -> list[Party]:
        """The main artists chosen so far (submitted, or preselected)."""
        queryset = self.fields["main_artists"].queryset
        if self.is_bound:
            ids = [row_id_or_none(v) for v in self.data.getlist(self.add_prefix("main_artists"))]
            return list(queryset.filter(pk__in=[i for i in ids if i]))
        return [p for p in (self.initial.get("main_artists") or []) if isinstance(p, Party)]

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
