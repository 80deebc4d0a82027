"""Names for the remixes behind settlements, supplied from above.

Royalties knows a settlement's remix only by its reference ("remix_42"):
it must not import remixing. The app that knows remixes registers a labeler
(marketplace does, in its AppConfig.ready) and payout pages show the remix
by name; with none registered, a neutral "Remix of <recording>" is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

RemixLabeler = Callable[[list[str]], dict[str, str]]
_labelers: list[RemixLabeler] = []


def register_remix_labeler(fn: RemixLabeler) -> RemixLabeler:
    if fn not in _labelers:
        _labelers.append(fn)
    return fn


def remix_labels(refs: Iterable[str]) -> dict[str, str]:
    """{remix_ref: what a person reads}, in one call per labeler."""
    wanted = sorted({ref for ref in refs if ref})
    labels: dict[str, str] = {}
    for labeler in _labelers:
        labels.update(labeler(wanted))
    return labels
