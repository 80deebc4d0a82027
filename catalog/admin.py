"""Staff admin. Consent events and split versions are read-only here, as in
the database; consent changes only through the artist's own pages."""

from __future__ import annotations

from django.contrib import admin, messages

from core.errors import DomainError

from . import services
from .models import (
    ConsentEvent,
    ConsentState,
    OfficialStem,
    Party,
    Recording,
    RecordingArtist,
    SplitShare,
    SplitVersion,
    Takedown,
    Work,
    WorkWriter,
)
from .selectors import recording_ids_naming_party, recording_ids_of_work


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "ipi", "user", "claim_verified"]
    list_filter = ["kind", "claim_verified"]
    search_fields = ["name", "ipi", "user__email"]
    readonly_fields = ["claim_requested_at", "claim_verified_at", "claim_verified_by"]
    raw_id_fields = ["user"]
    actions = ["verify_claims", "reject_claims"]

    @admin.action(description="Verify selected claims")
    def verify_claims(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject selected claims")
    def reject_claims(self, request, queryset):
        self._decide(request, queryset, approve=False)

    def _decide(self, request, queryset, *, approve):
        for party in queryset.filter(user__isnull=False, claim_verified=False):
            try:
                services.party_claim_verify(party=party, staff_user=request.user, approve=approve)
            except DomainError as error:
                self.message_user(request, f"{party}: {error.message}", messages.ERROR)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A renamed party is searched under its new name (same transaction).
        if change and "name" in form.changed_data:
            services.recording_search_refresh(
                recording_ids=recording_ids_naming_party(party_id=obj.pk)
            )


class WorkWriterInline(admin.TabularInline):
    model = WorkWriter
    extra = 0
    raw_id_fields = ["party"]


@admin.register(Work)
class WorkAdmin(admin.ModelAdmin):
    list_display = ["title", "iswc"]
    search_fields = ["title", "iswc"]
    inlines = [WorkWriterInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Writers and the ISWC are searchable on the work's recordings.
        services.recording_search_refresh(
            recording_ids=recording_ids_of_work(work_id=form.instance.pk)
        )


class RecordingArtistInline(admin.TabularInline):
    model = RecordingArtist
    extra = 0
    raw_id_fields = ["party"]


class OfficialStemInline(admin.TabularInline):
    model = OfficialStem
    extra = 0
    readonly_fields = ["sha256", "duration_ms"]


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ["title", "isrc", "genre", "tempo_bpm", "key", "created_at"]
    list_filter = ["genre"]
    search_fields = ["title", "isrc", "artists__party__name"]
    readonly_fields = ["audio_sha256", "duration_ms", "created_by", "created_at"]
    raw_id_fields = ["work"]
    inlines = [RecordingArtistInline, OfficialStemInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Artist and work links edited here change the verdict and the
        # search text; the admin's transaction is still open.
        services.recording_listing_refresh(recording_ids=[form.instance.pk])


class SplitShareInline(admin.TabularInline):
    model = SplitShare
    extra = 0
    can_delete = False
    readonly_fields = ["party", "bps"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SplitVersion)
class SplitVersionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "side", "number", "effective_from", "created_by"]
    list_filter = ["side"]
    inlines = [SplitShareInline]


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "kind", "party", "recording", "actor", "created_at", "short_hash"]
    list_filter = ["kind"]
    search_fields = ["party__name", "recording__title", "reason", "hash"]

    @admin.display(description="hash")
    def short_hash(self, event):
        return event.hash[:12]


@admin.register(ConsentState)
class ConsentStateAdmin(ReadOnlyAdmin):
    list_display = ["party", "recording", "status", "seq", "updated_at"]
    list_filter = ["status"]


@admin.register(Takedown)
class TakedownAdmin(ReadOnlyAdmin):
    """Place and lift takedowns on the recording's page, where a reason is asked."""

    list_display = ["recording", "reason", "placed_at", "lifted_at"]
