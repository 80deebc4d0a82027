"""Metadata for rendered remixes: who remixed what, and the rights identifiers.

The same facts are written in each container's native way: ID3v2.4 frames (standard frames
plus ``TXXX`` user frames) in MP3 and WAV, Vorbis comments in Ogg. The *source* recording's
ISRC goes in a custom ``SOURCE_ISRC`` field, not the standard ISRC slot: a remix is a new
recording and must not claim the original's ISRC. The ISWC is the composition's, which the
remix shares.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mutagen import id3
from mutagen.flac import FLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

# Custom field names (TXXX descriptions in ID3, comment keys in Vorbis).
REMIX_OF = "REMIX_OF"
ORIGINAL_ARTISTS = "ORIGINAL_ARTISTS"
SOURCE_ISRC = "SOURCE_ISRC"
ISWC = "ISWC"
REMIX_ID = "CLEARMIX_REMIX_ID"
STEMS_SOURCE = "CLEARMIX_STEMS_SOURCE"  # what made the stems (official, Demucs, embedded)
SONGWRITERS = "SONGWRITERS"
# The fan who sang the cover vocal (a take recorded in the studio), by public name.
COVER_PERFORMER = "COVER_PERFORMER"
# ID3 v2.4 can hold several values in one text frame, but ffmpeg and many
# players read only the first: one of two songwriters went missing. So the
# frames people see carry every name in one string, in credit order, and the
# exact list stays in TXXX frames for software.
ID3_NAME_JOIN = ", "


class TaggingError(ValueError):
    pass


@dataclass(frozen=True)
class RemixTags:
    remixer: str
    original_title: str
    original_artists: tuple[str, ...] = ()
    songwriters: tuple[str, ...] = ()
    source_isrc: str | None = None
    iswc: str | None = None
    remix_id: str | None = None
    title: str | None = None  # default: "<original title> (<remixer> Remix)"
    artist: str | None = None  # default: "<remixer> remix"
    comment: str | None = None
    year: str | None = None
    stems_source: str | None = None
    cover_performer: str | None = None

    @property
    def display_title(self) -> str:
        return self.title or f"{self.original_title} ({self.remixer} Remix)"

    @property
    def display_artist(self) -> str:
        return self.artist or f"{self.remixer} remix"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RemixTags:
        """Build from a plain dict (what Django code passes); unknown keys are an error.

        ``isrc`` is accepted as an alias of ``source_isrc``; list fields accept a string.
        """
        data = dict(data)
        if "isrc" in data:
            data.setdefault("source_isrc", data.pop("isrc"))
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise TaggingError(f"unknown tag field(s): {', '.join(unknown)}")
        for key in ("remixer", "original_title"):
            if not str(data.get(key) or "").strip():
                raise TaggingError(f"tag field {key!r} is required")
        for key in ("original_artists", "songwriters"):
            value = data.get(key) or ()
            data[key] = (value,) if isinstance(value, str) else tuple(str(v) for v in value)
        return cls(**data)


def _text(frame: type[id3.Frame], value: str | Sequence[str]) -> id3.Frame:
    values = [value] if isinstance(value, str) else list(value)
    return frame(encoding=id3.Encoding.UTF8, text=values)


def _txxx(desc: str, value: str | Sequence[str]) -> id3.TXXX:
    values = [value] if isinstance(value, str) else list(value)
    return id3.TXXX(encoding=id3.Encoding.UTF8, desc=desc, text=values)


def id3_frames(tags: RemixTags) -> list[id3.Frame]:
    frames: list[id3.Frame] = [
        _text(id3.TIT2, tags.display_title),
        _text(id3.TPE1, tags.display_artist),
        _text(id3.TPE4, tags.remixer),  # "interpreted, remixed, or otherwise modified by"
        _txxx(REMIX_OF, tags.original_title),
    ]
    if tags.original_artists:
        # original artist/performer
        frames.append(_text(id3.TOPE, ID3_NAME_JOIN.join(tags.original_artists)))
        frames.append(_txxx(ORIGINAL_ARTISTS, tags.original_artists))
    if tags.songwriters:
        frames.append(_text(id3.TCOM, ID3_NAME_JOIN.join(tags.songwriters)))
        frames.append(_txxx(SONGWRITERS, tags.songwriters))
    if tags.source_isrc:
        frames.append(_txxx(SOURCE_ISRC, tags.source_isrc))
    if tags.iswc:
        frames.append(_txxx(ISWC, tags.iswc))
    if tags.remix_id:
        frames.append(_txxx(REMIX_ID, tags.remix_id))
    if tags.stems_source:
        frames.append(_txxx(STEMS_SOURCE, tags.stems_source))
    if tags.cover_performer:
        frames.append(_txxx(COVER_PERFORMER, tags.cover_performer))
    if tags.year:
        frames.append(_text(id3.TDRC, tags.year))
    if tags.comment:
        frames.append(
            id3.COMM(encoding=id3.Encoding.UTF8, lang="eng", desc="", text=[tags.comment])
        )
    return frames


def vorbis_comments(tags: RemixTags) -> dict[str, list[str]]:
    comments: dict[str, list[str]] = {
        "TITLE": [tags.display_title],
        "ARTIST": [tags.display_artist],
        "REMIXER": [tags.remixer],
        REMIX_OF: [tags.original_title],
    }
    if tags.original_artists:
        comments["ORIGINALARTIST"] = list(tags.original_artists)
        comments[ORIGINAL_ARTISTS] = list(tags.original_artists)
    if tags.songwriters:
        comments["COMPOSER"] = list(tags.songwriters)
    if tags.source_isrc:
        comments[SOURCE_ISRC] = [tags.source_isrc]
    if tags.iswc:
        comments[ISWC] = [tags.iswc]
    if tags.remix_id:
        comments[REMIX_ID] = [tags.remix_id]
    if tags.stems_source:
        comments[STEMS_SOURCE] = [tags.stems_source]
    if tags.cover_performer:
        comments["PERFORMER"] = [f"{tags.cover_performer} (cover vocal)"]
        comments[COVER_PERFORMER] = [tags.cover_performer]
    if tags.year:
        comments["DATE"] = [tags.year]
    if tags.comment:
        comments["COMMENT"] = [tags.comment]
    return comments


def riff_info(tags: RemixTags) -> dict[str, str]:
    """RIFF INFO strings libsndfile can write at WAV creation (players that skip ID3)."""
    info = {"title": tags.display_title, "artist": tags.display_artist}
    # RIFF INFO has no composer or original-artist field: the full credits go
    # in the comment, so a player that reads only INFO still shows everyone.
    credits = [f"Remix of {tags.original_title}"]
    if tags.original_artists:
        credits.append("by " + ID3_NAME_JOIN.join(tags.original_artists))
    if tags.songwriters:
        credits.append("written by " + ID3_NAME_JOIN.join(tags.songwriters))
    if tags.cover_performer:
        credits.append(f"cover vocal by {tags.cover_performer}")
    info["comment"] = " ".join(credits) + (f". {tags.comment}" if tags.comment else ".")
    if tags.year:
        info["date"] = tags.year
    return info


def tag_file(path: str | os.PathLike[str], fmt: str, tags: RemixTags) -> None:
    """Write ``tags`` into an existing file of format ``fmt`` ('mp3', 'ogg', 'wav')."""
    path = Path(path)
    if fmt == "mp3":
        try:
            frames = id3.ID3(str(path))
            frames.clear()  # drop the encoder's own frames; we own the metadata
        except id3.ID3NoHeaderError:
            frames = id3.ID3()
        for frame in id3_frames(tags):
            frames.add(frame)
        frames.save(str(path), v2_version=4)
    elif fmt == "ogg":
        audio = _open_ogg(path)
        audio.delete()  # clear encoder-written comments, then write ours
        for key, values in vorbis_comments(tags).items():
            audio[key] = values
        audio.save()
    elif fmt == "wav":
        wav = WAVE(str(path))
        if wav.tags is None:
            wav.add_tags()
        assert wav.tags is not None
        for frame in id3_frames(tags):
            wav.tags.add(frame)
        wav.save()
    elif fmt == "flac":
        flac = FLAC(str(path))
        for key, values in vorbis_comments(tags).items():
            flac[key] = values
        flac.save()
    else:
        raise TaggingError(f"cannot tag format {fmt!r}")


def _open_ogg(path: Path) -> OggVorbis | OggOpus:
    with open(path, "rb") as f:
        head = f.read(64)
    return OggOpus(str(path)) if b"OpusHead" in head else OggVorbis(str(path))


def read_tags(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Flattened tags of a file: ID3 frame ids (``TXXX:DESC`` for user frames) or Vorbis
    comment keys (upper-cased) -> list of strings. Handy for tests and admin tooling."""
    path = Path(path)
    suffix = path.suffix.lower()
    out: dict[str, list[str]] = {}
    if suffix in (".mp3", ".wav"):
        source = id3.ID3(str(path)) if suffix == ".mp3" else WAVE(str(path)).tags
        for frame in (source or {}).values():
            key = frame.HashKey if isinstance(frame, id3.TXXX) else frame.FrameID
            out[key] = [str(t) for t in frame.text]
    elif suffix in (".ogg", ".opus", ".flac"):
        if suffix == ".flac":
            audio: Any = FLAC(str(path))
        else:
            audio = _open_ogg(path)
        if audio.tags is not None:
            for key in audio.tags.keys():
                out[key.upper()] = list(audio.tags[key])
    return out
