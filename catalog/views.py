"""Catalog pages: thin views; rules live in services and selectors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import user_reads_everything
from core.errors import DomainError

from . import services
from .forms import (
    ClaimSearchForm,
    ReasonForm,
    ShareFormSet,
    TakedownForm,
    TermsForm,
    UploadForm,
    upload_consent_choices,
)
from .identifiers import row_id_or_none
from .models import Party, Recording, SplitVersion
from .selectors import (
    consent_effective,
    consent_history,
    consent_state_for_party,
    party_list_claims,
    party_list_owned,
    party_list_pending_claims,
    party_search,
    recording_credits,
    recording_list_for_party_owner,
    recording_queryset_with_credits,
    recording_remixability,
    upload_consent_outlook,
    user_can_edit_splits,
    user_owns_party,
)
from .terms import TERM_LABELS, revocation_unpublishes
from .uploads import SizeCapUploadHandler


def _owned_party_or_403(request: HttpRequest, party_id: int) -> Party:
    party = get_object_or_404(Party, pk=party_id)
    if not user_owns_party(user=request.user, party=party):
        raise DjangoPermissionDenied("You do not own this artist.")
    return party


def _scope_recording(request: HttpRequest, party: Party) -> Recording | None:
    given = request.POST.get("recording") or request.GET.get("recording")
    if not given:
        return None
    # A value that cannot be an id names no recording: 404, as a missing one.
    return get_object_or_404(
        Recording, pk=row_id_or_none(given), artists__party=party, artists__role="main"
    )


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(reverse("catalog:artist_home"))


@login_required
def artist_home(request: HttpRequest) -> HttpResponse:
    parties = list(party_list_owned(user=request.user))
    artists = [p for p in parties if p.kind == Party.Kind.ARTIST]
    consent = {p.id: consent_state_for_party(party=p) for p in artists}
    rows = []
    for recording, rule in recording_list_for_party_owner(user=request.user):
        mine = [
            (credit.party, consent_effective(party=credit.party, recording=recording))
            for credit in recording.artists.all()
            if credit.role == "main" and credit.party in artists
        ]
        rows.append({"recording": recording, "rule": rule, "mine": mine})
    context = {
        "parties": parties,
        "artists": [(p, consent[p.id]) for p in artists],
        "pending": [p for p in party_list_claims(user=request.user) if not p.claim_verified],
        "rows": rows,
        "can_upload": any(p.kind in (Party.Kind.ARTIST, Party.Kind.LABEL) for p in parties),
    }
    return render(request, "catalog/artist_home.html", context)


@login_required
@require_POST
def consent_grant(request: HttpRequest, party_id: int) -> HttpResponse:
    party = _owned_party_or_403(request, party_id)
    recording = _scope_recording(request, party)
    effective = consent_effective(party=party, recording=recording)
    terms = effective.terms if effective.terms else None
    try:
        services.consent_grant(
            party=party,
            actor=request.user,
            recording=recording,
            terms=terms,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _back(request)
    where = f"“{recording.title}”" if recording else "your whole catalog"
    messages.success(request, f"Consent granted for {where}. Fans can remix it now.")
    return _back(request)


@login_required
@require_http_methods(["GET", "POST"])
def consent_revoke(request: HttpRequest, party_id: int) -> HttpResponse:
    """Revocation asks first and says what it will do."""
    party = _owned_party_or_403(request, party_id)
    recording = _scope_recording(request, party)
    effective = consent_effective(party=party, recording=recording)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_revoke(
                party=party,
                actor=request.user,
                recording=recording,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            where = f"“{recording.title}”" if recording else "your whole catalog"
            messages.success(request, f"Consent revoked for {where}. No new remixes can start.")
            return _back(request)
    affected = (
        [recording]
        if recording
        else [r for r, _, _ in consent_state_for_party(party=party)["recordings"]]
    )
    context = {
        "party": party,
        "recording": recording,
        "form": form,
        "affected": affected,
        "unpublish": revocation_unpublishes(effective.terms),
        "granted": effective.granted,
    }
    return render(request, "catalog/consent_revoke_confirm.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def consent_terms(request: HttpRequest, party_id: int) -> HttpResponse:
    party = _owned_party_or_403(request, party_id)
    recording = _scope_recording(request, party)
    effective = consent_effective(party=party, recording=recording)
    initial = effective.terms or dict.fromkeys(TERM_LABELS, True)
    form = TermsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        service = services.consent_terms_change if effective.granted else services.consent_grant
        try:
            service(
                party=party,
                actor=request.user,
                recording=recording,
                terms=form.terms(),
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Terms saved. They apply to new remixes from now on.")
            return _back(request)
    context = {"party": party, "recording": recording, "form": form, "effective": effective}
    return render(request, "catalog/consent_terms.html", context)


@login_required
def consent_history_page(request: HttpRequest, party_id: int) -> HttpResponse:
    party = get_object_or_404(Party, pk=party_id)
    user = request.user
    if not (user_owns_party(user=user, party=party) or user_reads_everything(user)):
        raise DjangoPermissionDenied("Only the artist, staff or auditors can read this.")
    events = consent_history(party=party)[:500]
    return render(request, "catalog/consent_history.html", {"party": party, "events": events})


@login_required
@require_http_methods(["GET", "POST"])
def party_claim(request: HttpRequest) -> HttpResponse:
    form = ClaimSearchForm(request.GET or None)
    results = []
    if form.is_valid() and form.cleaned_data["q"]:
        results = list(party_search(q=form.cleaned_data["q"]))
    if request.method == "POST":
        party = get_object_or_404(Party, pk=row_id_or_none(request.POST.get("party")))
        try:
            services.party_claim(party=party, user=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, f"Claim for {party.name} sent. Staff will verify it before you can act."
            )
            return _back(request)
    context = {"form": form, "results": results, "claims": party_list_claims(user=request.user)}
    return render(request, "catalog/party_claim.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def staff_claims(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise DjangoPermissionDenied("Staff only.")
    if request.method == "POST":
        party = get_object_or_404(Party, pk=row_id_or_none(request.POST.get("party")))
        approve = request.POST.get("decision") == "approve"
        reason = (request.POST.get("reason") or "").strip()[:500]
        if not reason:
            # The staff audit log records why, not only who and when.
            messages.error(request, f"Give a reason for verifying or rejecting {party}'s claim.")
            return redirect("catalog:staff_claims")
        try:
            services.party_claim_verify(
                party=party, staff_user=request.user, approve=approve, reason=reason
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Claim {'verified' if approve else 'rejected'}: {party}.")
        return redirect("catalog:staff_claims")
    return render(request, "catalog/staff_claims.html", {"claims": party_list_pending_claims()})


def _upload_choices(user):
    owned = party_list_owned(user=user, kinds=[Party.Kind.ARTIST, Party.Kind.LABEL])
    artists = Party.objects.filter(kind=Party.Kind.ARTIST)
    if owned.filter(kind=Party.Kind.LABEL).exists():
        return artists, artists
    return owned.filter(kind=Party.Kind.ARTIST), artists


@csrf_exempt  # the size cap must be installed before the body is read; CSRF checked below
@login_required
def recording_upload(request: HttpRequest) -> HttpResponse:
    request.upload_handlers.insert(0, SizeCapUploadHandler(request))
    return _recording_upload(request)


def _upload_form(request: HttpRequest, main_choices, featured_choices):
    """The form, with the main artist preselected for an artist uploader, and
    the consent outlook of the chosen artists; the artist decides when they
    speak for one of them."""
    owned = list(party_list_owned(user=request.user, kinds=[Party.Kind.ARTIST]))
    form = UploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES or None,
        main_choices=main_choices,
        featured_choices=featured_choices,
        too_large=getattr(request, "upload_too_large", False),
        initial={"main_artists": owned[:1]} if len(owned) == 1 else None,
    )
    outlook = upload_consent_outlook(user=request.user, artists=form.main_artist_parties() or owned)
    deciding = [o for o in outlook if o.can_decide]
    if deciding:
        form.offer_consent(upload_consent_choices(covered=any(o.granted for o in deciding)))
    return form, outlook


def _upload_saved_message(request: HttpRequest, recording: Recording) -> None:
    rule = recording_remixability(recording=recording)
    if rule.remixable:
        messages.success(request, f"“{recording.title}” is in the catalog. Fans can remix it now.")
    else:
        messages.success(
            request, f"“{recording.title}” is in the catalog. Not remixable yet: {rule.why_not}"
        )


@csrf_protect
def _recording_upload(request: HttpRequest) -> HttpResponse:
    main_choices, featured_choices = _upload_choices(request.user)
    if not main_choices.exists():
        raise DjangoPermissionDenied("Only a verified artist or label can upload.")
    form, outlook = _upload_form(request, main_choices, featured_choices)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.recording_upload(
                uploader=request.user,
                audio=data["audio"],
                title=data["title"],
                main_artists=list(data["main_artists"]),
                featured_artists=list(data["featured_artists"]),
                isrc=data["isrc"],
                work_title=data["work_title"],
                iswc=data["iswc"],
                genre=data["genre"],
                mood=data["mood"],
                tempo_bpm=data["tempo_bpm"],
                key=data["key"],
                stems=form.stems(),
                writers=form.writer_credits(),
                consent=form.consent_choice(),
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            if result.created:
                _upload_saved_message(request, result.recording)
            else:
                messages.info(
                    request, f"This audio is already in the catalog as “{result.recording.title}”."
                )
            return redirect("catalog:recording_detail", recording_id=result.recording.pk)
    # A refused upload is the uploader's input to correct: 400, the form with its errors.
    status = 400 if request.method == "POST" else 200
    return render(request, "catalog/upload.html", {"form": form, "outlook": outlook}, status=status)


def recording_detail(request: HttpRequest, recording_id: int) -> HttpResponse:
    recording = get_object_or_404(recording_queryset_with_credits(), pk=recording_id)
    rule = recording_remixability(recording=recording)
    versions = SplitVersion.objects.filter(
        Q(recording=recording) | Q(work_id=recording.work_id, work__isnull=False)
    ).prefetch_related("shares__party")
    context = {
        "recording": recording,
        "rule": rule,
        "credits": recording_credits(recording=recording),
        "versions": versions,
        "can_edit_splits": user_can_edit_splits(user=request.user, recording=recording),
        "takedown_form": TakedownForm() if request.user.is_staff else None,
        "takedown": recording.takedowns.filter(lifted_event__isnull=True).first(),
    }
    return render(request, "catalog/recording_detail.html", context)


@login_required
@require_POST
def recording_takedown(request: HttpRequest, recording_id: int) -> HttpResponse:
    if not request.user.is_staff:
        raise DjangoPermissionDenied("Staff only.")
    recording = get_object_or_404(Recording, pk=recording_id)
    form = TakedownForm(request.POST)
    action = request.POST.get("action")
    if form.is_valid():
        service = services.takedown_lift if action == "lift" else services.takedown_place
        try:
            service(recording=recording, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Takedown lifted." if action == "lift" else "Taken down.")
    else:
        messages.error(request, "Give a reason.")
    return redirect("catalog:recording_detail", recording_id=recording.pk)


def _split_saved_verdict(request: HttpRequest, recording: Recording) -> None:
    """A split can be the last missing piece: say so, and whose consent lets
    fans in, so a track never turns remixable without the artist knowing."""
    rule = recording_remixability(recording=recording)
    if rule.remixable:
        messages.warning(
            request,
            f"“{recording.title}” is now remixable by fans: every main artist's consent "
            "covers it. Opt it out from My catalog if that is not what you want.",
        )


@login_required
@require_http_methods(["GET", "POST"])
def recording_splits(request: HttpRequest, recording_id: int) -> HttpResponse:
    recording = get_object_or_404(Recording.objects.select_related("work"), pk=recording_id)
    if not user_can_edit_splits(user=request.user, recording=recording):
        raise DjangoPermissionDenied("You cannot edit these splits.")
    side = request.POST.get("side") or request.GET.get("side") or "master"
    if side == "publishing" and recording.work is None:
        messages.error(
            request, "Link a composition first: upload with a composition title or ISWC."
        )
        return redirect("catalog:recording_detail", recording_id=recording.pk)
    kinds = ["artist", "label"] if side == "master" else ["songwriter", "publisher"]
    parties = Party.objects.filter(kind__in=kinds).order_by("name")
    formset = ShareFormSet(request.POST or None, form_kwargs={"parties": parties}, prefix="shares")
    errors: list[str] = []
    if request.method == "POST" and formset.is_valid():
        try:
            shares = [s for s in (f.share() for f in formset.forms) if s is not None]
            owner = {"recording": recording} if side == "master" else {"work": recording.work}
            services.split_version_create(**owner, shares=shares, actor=request.user)
        except DomainError as error:
            errors = error.fields.get("shares") or [error.message]
        else:
            messages.success(request, f"New {side} split version saved.")
            _split_saved_verdict(request, recording)
            return redirect("catalog:recording_detail", recording_id=recording.pk)
    context = {"recording": recording, "side": side, "formset": formset, "errors": errors}
    return render(request, "catalog/splits.html", context)
