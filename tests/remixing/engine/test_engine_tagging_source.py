"""File tags name what made the stems (official, Demucs or embedded)."""

from __future__ import annotations

from remixing.engine.tagging import STEMS_SOURCE, RemixTags, id3_frames, vorbis_comments


def test_stems_source_is_written_in_id3_and_vorbis():
    source = "Separated by Clearmix's embedded separator (librosa-hpss-v1)"
    tags = RemixTags.from_mapping(
        {"remixer": "DJ", "original_title": "Song", "stems_source": source}
    )
    frames = {getattr(frame, "desc", frame.FrameID): frame.text for frame in id3_frames(tags)}
    assert frames[STEMS_SOURCE] == [source]
    assert vorbis_comments(tags)[STEMS_SOURCE] == [source]
    bare = RemixTags.from_mapping({"remixer": "DJ", "original_title": "Song"})
    assert STEMS_SOURCE not in vorbis_comments(bare)
