"""Who may open the studio: gates that higher apps register.

remixing must not import marketplace (the arrows never run up), yet the studio
is for entitled fans only. Marketplace registers a gate with
`register_studio_gate(fn)`, where `fn(*, user)` returns a list of
`{"code", "message", "fix_url"}` items (empty when the user may remix).

Fails closed: with no gate registered, nobody gets in.
"""

from __future__ import annotations

from collections.abc import Callable

from core.errors import DomainError

StudioGate = Callable[..., list]
_gates: list[StudioGate] = []


def register_studio_gate(fn: StudioGate) -> StudioGate:
    if fn not in _gates:
        _gates.append(fn)
    return fn


def studio_blockers(*, user) -> list[dict]:
    if not _gates:
        return [
            {
                "code": "studio_unavailable",
                "message": "The studio cannot check your subscription right now.",
                "fix_url": "/",
            }
        ]
    blockers: list[dict] = []
    for gate in _gates:
        blockers.extend(dict(item) for item in gate(user=user))
    return blockers


def studio_access_require(*, user) -> None:
    """Only entitled fans make remixes, through pages or the API alike: a 403
    naming what blocks them."""
    blockers = studio_blockers(user=user)
    if blockers:
        raise DomainError(
            " ".join(item["message"] for item in blockers),
            code=blockers[0]["code"],
            status_code=403,
        )
