"""Who may open the studio: gates that higher apps register.

remixing must not import marketplace (the arrows never run up), yet the studio
is for entitled fans only. Marketplace registers a gate with
`register_studio_gate(fn)`, where `fn(*, user)` returns a list of
`{"code", "message", "fix_url"}` items (empty when the user may remix).

Fails closed: with no gate registered, nobody gets in.
"""

from __future__ import annotations

from collections.abc import Callable

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
