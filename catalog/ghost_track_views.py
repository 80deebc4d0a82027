"""Staff page of the ghost-track guard: refused uploads with their evidence, and the
decision on each (allow as a legitimate re-release, or confirm the refusal)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from core.errors import DomainError

from .ghost_tracks import ghost_track_flag_list
from .identifiers import row_id_or_none
from .models import GhostTrackFlag
from .services import ghost_track_decide


@login_required
@require_http_methods(["GET", "POST"])
def staff_ghost_tracks(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise DjangoPermissionDenied("Staff only.")
    if request.method == "POST":
        flag = get_object_or_404(GhostTrackFlag, pk=row_id_or_none(request.POST.get("flag")))
        decision = request.POST.get("decision")
        if decision not in ("allow", "refuse"):
            messages.error(request, "Choose to allow the upload or to confirm the refusal.")
            return redirect("catalog:staff_ghost_tracks")
        try:
            ghost_track_decide(
                flag=flag,
                staff_user=request.user,
                allow=decision == "allow",
                reason=(request.POST.get("reason") or "")[:500],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            done = "allowed as a re-release" if decision == "allow" else "refusal confirmed"
            messages.success(request, f"“{flag.claimed_title}”: {done}.")
        return redirect("catalog:staff_ghost_tracks")
    context = {
        "pending": ghost_track_flag_list(status=GhostTrackFlag.Status.PENDING),
        "decided": ghost_track_flag_list().exclude(status=GhostTrackFlag.Status.PENDING)[:50],
    }
    return render(request, "catalog/staff_ghost_tracks.html", context)
