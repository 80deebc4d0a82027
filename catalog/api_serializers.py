"""DRF serializers for the catalog API: shapes only, no rules."""

from __future__ import annotations

from rest_framework import serializers

from .identifiers import MAX_ROW_ID
from .models import ConsentEvent, Recording
from .selectors import ListedRecording, Remixability
from .terms import TERM_KEYS


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    party_id = serializers.IntegerField(allow_null=True)


class RemixabilitySerializer(serializers.Serializer):
    remixable = serializers.BooleanField()
    reasons = ReasonSerializer(many=True)
    terms = serializers.DictField(child=serializers.BooleanField())
    consent_event_ids = serializers.ListField(child=serializers.IntegerField())
    master_split_version_id = serializers.IntegerField(allow_null=True)
    publishing_split_version_id = serializers.IntegerField(allow_null=True)


class ArtistCreditSerializer(serializers.Serializer):
    party_id = serializers.IntegerField(source="party.id")
    name = serializers.CharField(source="party.name")
    role = serializers.CharField()


class TrackSerializer(serializers.ModelSerializer):
    """A track list row, as the schema documents it (`track_list_row` writes it)."""

    artists = ArtistCreditSerializer(many=True, read_only=True)
    remixable = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()

    class Meta:
        model = Recording
        fields = [
            "id",
            "title",
            "isrc",
            "artists",
            "genre",
            "mood",
            "tempo_bpm",
            "key",
            "duration_ms",
            "remixable",
            "reasons",
        ]

    def _rule(self, recording):
        return self.context["remixability"][recording.id]

    def get_remixable(self, recording) -> bool:
        return self._rule(recording).remixable

    def get_reasons(self, recording) -> list[dict]:
        return ReasonSerializer(self._rule(recording).reasons, many=True).data


def track_list_row(row: ListedRecording, verdict: Remixability) -> dict:
    """A track list row, shaped as TrackSerializer documents it, written
    directly: DRF's ModelSerializer cost about 85 µs a row, more than the
    search (a test holds the two equal)."""
    return {
        "id": row.id,
        "title": row.title,
        "isrc": row.isrc,
        "artists": [
            {"party_id": artist.party_id, "name": artist.name, "role": artist.role}
            for artist in row.artists
        ],
        "genre": row.genre,
        "mood": row.mood,
        "tempo_bpm": row.tempo_bpm,
        "key": row.key,
        "duration_ms": row.duration_ms,
        "remixable": verdict.remixable,
        "reasons": [
            {"code": reason.code, "message": reason.message, "party_id": reason.party_id}
            for reason in verdict.reasons
        ],
    }


class SongwriterSerializer(serializers.Serializer):
    name = serializers.CharField()
    role = serializers.CharField()


class CreditsSerializer(serializers.Serializer):
    title = serializers.CharField()
    main_artists = serializers.ListField(child=serializers.CharField())
    featured_artists = serializers.ListField(child=serializers.CharField())
    songwriters = serializers.SerializerMethodField()
    isrc = serializers.CharField()
    iswc = serializers.CharField()
    work_title = serializers.CharField()
    credit_line = serializers.CharField()

    def get_songwriters(self, credits) -> list[dict]:
        return [{"name": name, "role": role} for name, role in credits.songwriters]


class ShareSerializer(serializers.Serializer):
    party_id = serializers.IntegerField()
    name = serializers.CharField()
    bps = serializers.IntegerField()


class SplitSerializer(serializers.Serializer):
    version_id = serializers.IntegerField()
    number = serializers.IntegerField()
    effective_from = serializers.DateTimeField()
    shares = ShareSerializer(many=True)


class TrackDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    genre = serializers.CharField()
    mood = serializers.ListField(child=serializers.CharField())
    tempo_bpm = serializers.IntegerField(allow_null=True)
    key = serializers.CharField()
    duration_ms = serializers.IntegerField(allow_null=True)
    credits = CreditsSerializer()
    remixability = RemixabilitySerializer()
    master_split = SplitSerializer(allow_null=True)
    publishing_split = SplitSerializer(allow_null=True)


class ConsentEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    # Null for a catalog-wide event (no recording): documented as nullable.
    recording_title = serializers.CharField(source="recording.title", default=None, allow_null=True)

    class Meta:
        model = ConsentEvent
        fields = [
            "id",
            "seq",
            "kind",
            "party",
            "recording",
            "recording_title",
            "actor",
            "created_at",
            "reason",
            "terms",
            "prev_hash",
            "hash",
        ]

    def get_actor(self, event) -> str:
        return str(event.actor)


class ConsentScopeSerializer(serializers.Serializer):
    recording_id = serializers.IntegerField(allow_null=True)
    recording_title = serializers.CharField(allow_null=True)
    granted = serializers.BooleanField()
    terms = serializers.DictField(child=serializers.BooleanField(), allow_null=True)
    event_id = serializers.IntegerField(allow_null=True)
    decided_by_catalog_wide = serializers.BooleanField()


class PartyConsentSerializer(serializers.Serializer):
    party_id = serializers.IntegerField()
    party_name = serializers.CharField()
    catalog_wide = ConsentScopeSerializer()
    recordings = ConsentScopeSerializer(many=True)


class TermsField(serializers.DictField):
    child = serializers.BooleanField()


class ConsentChangeSerializer(serializers.Serializer):
    """Input for POST /consent/: one ledger event by the party's owner."""

    ACTIONS = ("grant", "revoke", "terms_change")

    party = serializers.IntegerField(min_value=1, max_value=MAX_ROW_ID)
    recording = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ROW_ID
    )
    action = serializers.ChoiceField(choices=ACTIONS)
    terms = TermsField(required=False, help_text=f"Booleans for: {', '.join(TERM_KEYS)}.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    def validate(self, data):
        if data["action"] == "terms_change" and "terms" not in data:
            raise serializers.ValidationError({"terms": ["Terms are required to change terms."]})
        return data


class TrackFilterSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)
    artist = serializers.CharField(required=False, allow_blank=True, max_length=200)
    genre = serializers.CharField(required=False, allow_blank=True, max_length=200)
    key = serializers.CharField(required=False, allow_blank=True, max_length=200)
    mood = serializers.CharField(required=False, allow_blank=True, max_length=200)
    tempo_min = serializers.IntegerField(required=False, min_value=1, max_value=1000)
    tempo_max = serializers.IntegerField(required=False, min_value=1, max_value=1000)
    include_unremixable = serializers.BooleanField(required=False, default=False)

    def validate(self, data):
        low, high = data.get("tempo_min"), data.get("tempo_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"tempo_max": ["Must be at least tempo_min."]})
        return data


class TrackPageSerializer(serializers.Serializer):
    """One page of the track list (bounded limit/offset pagination)."""

    count = serializers.IntegerField()
    count_capped = serializers.BooleanField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = TrackSerializer(many=True)


class ConsentEventPageSerializer(serializers.Serializer):
    """One page of a party's consent history (limit/offset pagination)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ConsentEventSerializer(many=True)
