"""Audit pages for staff auditors (user.is_auditor). Thin: parse, call one
selector or service, render. Every view is behind `auditor_required`; every
CSV export is logged in the staff audit log before it is sent."""

from __future__ import annotations

from functools import wraps

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from catalog.models import Party
from core.errors import DomainError, NotFound
from marketplace.audit import anomalies, checks, exports, forms, selectors, services
from marketplace.audit.links import RECORD_MODELS
from marketplace.models import CheckRun, Order
from remixing import services as remixing_services
from remixing.audio import separation_availability
from remixing.models import Remix, StemSet


def auditor_required(view):
    """Signed in (else the login page) and a staff auditor (else 403)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not getattr(request.user, "is_auditor", False):
            raise PermissionDenied("Staff auditors only.")
        return view(request, *args, **kwargs)

    return wrapper


def _dates(request: HttpRequest) -> dict:
    data = forms.query_data(request.GET, date_from="from", date_to="to")
    return forms.DateRangeForm(data).values()


def _wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def _export(request: HttpRequest, name: str, filters: dict, header, rows) -> HttpResponse:
    services.export_record(actor=request.user, export=name, filters=filters, rows=len(rows))
    return exports.csv_response(f"clearmix-{name}.csv", header, rows)


@require_GET
@auditor_required
def dashboard(request: HttpRequest) -> HttpResponse:
    found = anomalies.anomalies_all()
    sections = [
        {"kind": kind, "items": found[kind.key][:10], "count": len(found[kind.key])}
        for kind in anomalies.KINDS
    ]
    runs = checks.latest_runs()
    check_rows = [
        {
            "name": name,
            "label": CheckRun.Name(name).label,
            "run": run,
            "stale": checks.is_stale(run),
        }
        for name, run in runs.items()
    ]
    context = {
        "sections": sections,
        "total": sum(s["count"] for s in sections),
        "checks": check_rows,
        "separation": separation_availability(),
    }
    return render(request, "marketplace/audit/dashboard.html", context)


@require_GET
@auditor_required
def anomaly_list(request: HttpRequest, kind: str) -> HttpResponse:
    spec = anomalies.KINDS_BY_KEY.get(kind)
    if spec is None:
        raise Http404("No such anomaly list.")
    items = spec.finder()
    if _wants_csv(request):
        return _export(
            request,
            f"anomalies-{kind}",
            {"kind": kind},
            exports.ANOMALY_HEADER,
            exports.anomaly_rows(items),
        )
    return render(
        request,
        "marketplace/audit/anomalies.html",
        {"kind": spec, "items": items},
    )


def _remix_filters(request: HttpRequest) -> selectors.RemixFilters:
    data = forms.query_data(request.GET, date_from="from", date_to="to", party_id="party")
    values = forms.RemixFilterForm(data).values()
    text = {name: values[name] or "" for name in ("artist", "recording", "fan", "status")}
    return selectors.RemixFilters(
        **text,
        date_from=values["date_from"],
        date_to=values["date_to"],
        party_id=values["party_id"],
        recording_id=values["recording_id"],
    )


@require_GET
@auditor_required
def remix_list(request: HttpRequest) -> HttpResponse:
    filters = _remix_filters(request)
    remixes = selectors.remix_search(filters=filters)
    if _wants_csv(request):
        rows = exports.remix_rows(remixes)
        return _export(request, "remixes", filters.as_dict(), exports.REMIX_HEADER, rows)
    page = Paginator(remixes, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "marketplace/audit/remix_list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": Remix.Status.choices,
            "query": query.urlencode(),
        },
    )


@require_GET
@auditor_required
def remix_trail(request: HttpRequest, remix_id: int) -> HttpResponse:
    try:
        trail = selectors.remix_trail(remix_id=remix_id)
    except Remix.DoesNotExist:
        raise Http404("No such remix.") from None
    return render(request, "marketplace/audit/remix_trail.html", {"t": trail})


@require_GET
@auditor_required
def record_detail(request: HttpRequest, key: str, pk: str) -> HttpResponse:
    label = RECORD_MODELS.get(key)
    if label is None:
        raise Http404("Not an auditable record.")
    model = apps.get_model(label)
    try:
        pk = model._meta.pk.to_python(pk)
    except ValidationError:
        raise Http404("No such record.") from None
    obj = get_object_or_404(model, pk=pk)
    context = {
        "obj": obj,
        "key": key,
        "model_name": model._meta.verbose_name,
        "fields": selectors.record_fields(obj),
        "remix_id": obj.pk if isinstance(obj, Remix) else getattr(obj, "remix_id", None),
    }
    return render(request, "marketplace/audit/record.html", context)


@require_GET
@auditor_required
def artist_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:200]
    parties = selectors.party_list_for_reports(q=q)[:200]
    return render(request, "marketplace/audit/artists.html", {"parties": parties, "q": q})


@require_GET
@auditor_required
def artist_report(request: HttpRequest, party_id: int) -> HttpResponse:
    party = get_object_or_404(Party, pk=party_id)
    dates = _dates(request)
    date_from, date_to = dates["date_from"], dates["date_to"]
    report = selectors.artist_report(party=party, date_from=date_from, date_to=date_to)
    if _wants_csv(request):
        filters = {"party_id": party.pk, "from": str(date_from or ""), "to": str(date_to or "")}
        return _export(
            request,
            f"licensing-report-party-{party.pk}",
            filters,
            exports.REPORT_HEADER,
            exports.report_rows(report),
        )
    template = (
        "marketplace/audit/artist_report_print.html"
        if request.GET.get("print")
        else "marketplace/audit/artist_report.html"
    )
    return render(request, template, {"report": report, "query": request.GET.urlencode()})


@require_GET
@auditor_required
def audit_log(request: HttpRequest) -> HttpResponse:
    get = request.GET
    values = forms.LogFilterForm(forms.query_data(get, date_from="from", date_to="to")).values()
    filters = {
        "action": values["action"] or "",
        "actor": values["actor"] or "",
        "date_from": values["date_from"],
        "date_to": values["date_to"],
    }
    entries = selectors.staff_audit_list(**filters)
    if _wants_csv(request):
        rows = exports.log_rows(entries)
        shown = {k: str(v) for k, v in filters.items() if v}
        return _export(request, "staff-audit-log", shown, exports.LOG_HEADER, rows)
    page = Paginator(entries, 100).get_page(get.get("page"))
    query = get.copy()
    query.pop("page", None)
    return render(
        request,
        "marketplace/audit/log.html",
        {"page": page, "filters": filters, "query": query.urlencode()},
    )


@require_GET
@auditor_required
def check_list(request: HttpRequest) -> HttpResponse:
    runs = CheckRun.objects.order_by("-started_at", "-id")[:100]
    return render(
        request,
        "marketplace/audit/checks.html",
        {"runs": runs, "names": CheckRun.Name.choices},
    )


@require_POST
@auditor_required
def check_run(request: HttpRequest) -> HttpResponse:
    names = [request.POST.get("name")] if request.POST.get("name") else list(checks.CHECKS)
    for name in names:
        if name not in checks.CHECKS:
            raise Http404("No such check.")
        run = services.check_run_now(name=name, actor=request.user)
        level = messages.SUCCESS if run.ok else messages.ERROR
        messages.add_message(request, level, f"{CheckRun.Name(name).label}: {run.summary}")
    return redirect("marketplace:audit_dashboard")


@require_POST
@auditor_required
def order_refund(request: HttpRequest, order_id: int) -> HttpResponse:
    order = get_object_or_404(Order, pk=order_id)
    try:
        services.staff_order_refund(
            order=order, actor=request.user, reason=request.POST.get("reason", "")
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Order #{order.pk} refunded; the audit log records why.")
    return redirect("marketplace:audit_remix_trail", remix_id=order.remix_id)


@require_POST
@auditor_required
def transfer_retry(request: HttpRequest, transfer_id: int) -> HttpResponse:
    try:
        services.staff_transfer_retry(
            transfer_id=transfer_id, actor=request.user, reason=request.POST.get("reason", "")
        )
    except NotFound:
        raise Http404("No such transfer.") from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Transfer #{transfer_id} will be sent again now; the audit log records why."
        )
    return redirect("marketplace:audit_anomalies", kind="failed_transfer")


@require_POST
@auditor_required
def stemset_retry(request: HttpRequest, stem_set_id: int) -> HttpResponse:
    stem_set = get_object_or_404(StemSet, pk=stem_set_id)
    try:
        remixing_services.stemset_retry(
            stem_set=stem_set, actor=request.user, reason=request.POST.get("reason", "")
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Stem set #{stem_set.pk} is queued again; the audit log records why."
        )
    return redirect("marketplace:audit_record", key="stem-set", pk=stem_set.pk)
