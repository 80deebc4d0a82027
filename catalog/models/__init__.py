"""The rights ledger: parties, recordings, works, splits, consent and takedowns.

Fields, constraints and small properties only; every write lives in
`catalog.services`, every read in `catalog.selectors`.
"""

from .fingerprints import (
    FingerprintKey,
    GhostTrackFlag,
    RecordingFingerprint,
)
from .recordings import (
    BPS_WHOLE,
    OfficialStem,
    Party,
    Recording,
    RecordingArtist,
    Work,
    WorkWriter,
    duration_display,
    recording_audio_path,
    stem_audio_path,
)
from .rights import (
    ConsentChainHead,
    ConsentEvent,
    ConsentState,
    SplitShare,
    SplitVersion,
    Takedown,
)
from .staff_audit import (
    StaffAuditEntry,
    StaffAuditHead,
)

__all__ = [
    "BPS_WHOLE",
    "ConsentChainHead",
    "ConsentEvent",
    "ConsentState",
    "FingerprintKey",
    "GhostTrackFlag",
    "OfficialStem",
    "Party",
    "Recording",
    "RecordingArtist",
    "RecordingFingerprint",
    "SplitShare",
    "SplitVersion",
    "StaffAuditEntry",
    "StaffAuditHead",
    "Takedown",
    "Work",
    "WorkWriter",
    "duration_display",
    "recording_audio_path",
    "stem_audio_path",
]
