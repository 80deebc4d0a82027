"""A media folder with one file of every kind, the database rows that own them,
and a user for every role; plus a raw HTTP client that sends a path exactly as
written (no client-side normalisation, no re-encoding)."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils.timezone import now

from catalog.models import OfficialStem
from remixing.models import RecordingPreview, Remix, Stem, StemSet
from tests.catalog.factories import remixable_recording
from tests.fixtures.accounts import UserFactory
from tests.marketplace.billing.factories import entitle, make_remix

ROLES = (
    "anonymous",
    "fan_unsubscribed",
    "other_subscriber",
    "owner",
    "artist",
    "staff",
    "auditor",
)

# Who may read each kind of file, by its canonical URL.
EVERYONE = set(ROLES)
RIGHTS = {
    "master": {"artist", "staff", "auditor"},
    "official_stem": {"artist", "staff", "auditor"},
    "separated_lossless": {"staff", "auditor"},
    "separated_preview": {"other_subscriber", "owner", "staff", "auditor"},
    "remix_unpublished": {"owner", "staff", "auditor"},
    "remix_unpublished_wav": {"owner", "staff", "auditor"},
    "remix_published": EVERYONE,
    "preview_full": {"other_subscriber", "owner", "artist", "staff", "auditor"},
    "preview_excerpt": EVERYONE,
    "orphan_original": set(),
    "orphan_remix": set(),
}
PRIVATE = ("master", "official_stem", "separated_lossless", "remix_unpublished", "preview_full")


@dataclass
class World:
    root: Path
    files: dict[str, str] = field(default_factory=dict)  # kind -> storage name
    content: dict[str, bytes] = field(default_factory=dict)  # kind -> bytes
    users: dict[str, object] = field(default_factory=dict)
    outside: Path | None = None

    def put(self, kind: str, name: str) -> str:
        # Unique bytes per file: a leak is recognised by its content.
        data = f"{kind}:".encode() + secrets.token_bytes(24)
        saved = default_storage.save(name, ContentFile(data))
        self.files[kind], self.content[kind] = saved, data
        return saved

    def cookie(self, role: str) -> str:
        user = self.users.get(role)
        if user is None:
            return ""
        client = Client()
        client.force_login(user)
        return f"sessionid={client.cookies['sessionid'].value}"


def build_world(root: Path) -> World:
    world = World(root=root)
    fan = UserFactory()
    entitle(fan)
    other = UserFactory()
    entitle(other)
    remix = make_remix(owner=fan)
    recording = remix.recording
    artist = recording.artists.first().party.user
    world.users = {
        "fan_unsubscribed": UserFactory(),
        "other_subscriber": other,
        "owner": fan,
        "artist": artist,
        "staff": UserFactory(is_staff=True, is_fan=False),
        "auditor": UserFactory(is_auditor=True, is_fan=False),
    }
    recording.audio = world.put("master", "catalog/recordings/master.flac")
    recording.save(update_fields=["audio"])
    stem_name = world.put("official_stem", "catalog/stems/drums-official.flac")
    OfficialStem.objects.create(recording=recording, name="drums", file=stem_name, sha256="0" * 64)
    stem_set = StemSet.objects.create(
        audio_sha256="1" * 64, model_name="htdemucs", recording=recording, status="ready"
    )
    Stem.objects.create(
        stem_set=stem_set,
        name="drums",
        lossless=world.put("separated_lossless", f"remixing/stems/{stem_set.pk}/drums.flac"),
        preview=world.put("separated_preview", f"remixing/stems/{stem_set.pk}/drums.preview.ogg"),
        duration_s=30.0,
        sha256="2" * 64,
    )
    folder = f"remixing/remixes/{remix.pk}"
    remix.output_mp3 = world.put("remix_unpublished", f"{folder}/remix-{remix.pk}.mp3")
    remix.output_wav = world.put("remix_unpublished_wav", f"{folder}/remix-{remix.pk}.wav")
    remix.paid_at = now()
    remix.status = Remix.Status.READY
    remix.save()
    published = remixable_recording("Published")[0]
    shown = Remix.objects.create(
        fan=other, recording=published, status="published", published_at=now(), title="Out"
    )
    pub_folder = f"remixing/remixes/{shown.pk}"
    shown.output_mp3 = world.put("remix_published", f"{pub_folder}/remix-{shown.pk}.mp3")
    shown.save()
    preview = RecordingPreview.objects.create(
        recording=recording,
        audio_sha256="3" * 64,
        status=RecordingPreview.Status.READY,
        full=world.put("preview_full", f"remixing/previews/{recording.pk}/full.ogg"),
        excerpt=world.put("preview_excerpt", f"remixing/previews/{recording.pk}/excerpt.ogg"),
        duration_s=30.0,
        excerpt_s=15.0,
    )
    world.files["preview_row"] = str(preview.pk)
    # Files no row owns, in folders whose rows are public.
    world.put("orphan_original", "catalog/recordings/orphan.flac")
    world.put("orphan_remix", f"{pub_folder}/stray.mp3")
    return world


def add_symlinks(world: World) -> dict[str, str]:
    """Symlinks a careless server would follow: name -> what it points at.

    Each sits where a public row's file, or a public folder, would be.
    """
    root = world.root
    outside = root.parent / "outside-media-root"
    outside.mkdir(exist_ok=True)
    secret = outside / "secret.txt"
    secret.write_bytes(b"outside:" + secrets.token_bytes(24))
    world.outside, world.content["outside"] = secret, secret.read_bytes()
    links = {
        "catalog/recordings/link-to-stem.flac": root / world.files["official_stem"],
        "catalog/recordings/link-outside.flac": secret,
        "catalog/recordings/stems-dir": root / "catalog/stems",
    }
    for name, target in links.items():
        os.symlink(target, root / name)
    # A public row whose file was replaced by a symlink to a private one.
    published = Remix.objects.get(output_mp3=world.files["remix_published"])
    link = f"remixing/remixes/{published.pk}/remix-{published.pk}.ogg"
    os.symlink(root / world.files["master"], root / link)
    published.output_ogg = link
    published.save(update_fields=["output_ogg"])
    preview = RecordingPreview.objects.get(pk=int(world.files["preview_row"]))
    excerpt_link = f"{Path(preview.excerpt.name).parent}/excerpt-link.ogg"
    os.symlink(secret, root / excerpt_link)
    preview.excerpt = excerpt_link
    preview.save(update_fields=["excerpt"])
    stem_dir = world.files["official_stem"].rsplit("/", 1)[1]
    return {
        "catalog/recordings/link-to-stem.flac": "official_stem",
        "catalog/recordings/link-outside.flac": "outside",
        f"catalog/recordings/stems-dir/{stem_dir}": "official_stem",
        link: "master",
        excerpt_link: "outside",
    }


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def _request(netloc: str, path: str, cookie: str, headers: dict | None, connection: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {netloc}", f"Connection: {connection}"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    reply_headers = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        reply_headers[key.strip().lower()] = value.strip()
    return int(status_line.split()[1]), reply_headers


def raw_get(base_url: str, path: str, *, cookie: str = "", headers: dict | None = None) -> Reply:
    """GET `path` byte for byte as given: urllib and http.client would quote,
    validate or normalise it, which is what a real attacker's client skips."""
    with RawClient(base_url, keep_alive=False) as client:
        return client.get(path, cookie=cookie, headers=headers)


class RawClient:
    """raw_get's requests, many over one kept-alive connection.

    The live server gives every connection its own thread, and every thread its
    own database connection, closed with it: one connection per request paid a
    PostgreSQL backend start (about 6 ms) on each of a sweep's hundreds of
    requests, nearly half of what each cost. Each request is still sent byte
    for byte; a reply that closes the connection (no Content-Length, or
    "Connection: close") is read to its end and the next request opens a new one.
    """

    def __init__(self, base_url: str, *, keep_alive: bool = True):
        parts = urlsplit(base_url)
        self.address, self.netloc = (parts.hostname, parts.port), parts.netloc
        self.connection = "keep-alive" if keep_alive else "close"
        self.sock: socket.socket | None = None
        self.buffer = b""

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def get(self, path: str, *, cookie: str = "", headers: dict | None = None) -> Reply:
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=20)
        self.sock.sendall(_request(self.netloc, path, cookie, headers, self.connection))
        while b"\r\n\r\n" not in self.buffer:
            self._receive(required=True)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status, reply_headers = _parse_head(head)
        length = reply_headers.get("content-length")
        closes = length is None or reply_headers.get("connection", "").lower() == "close"
        if closes:
            while self._receive(required=False):
                pass  # the server closes the connection where the body ends
        else:
            while len(self.buffer) < int(length):
                self._receive(required=True)
        # A closing reply's body is all it sent, as raw_get always read it.
        end = len(self.buffer) if closes else int(length)
        body, self.buffer = self.buffer[:end], self.buffer[end:]
        if closes:
            self.close()
        return Reply(status, reply_headers, body)

    def _receive(self, *, required: bool) -> bool:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk and required:
            raise ConnectionError("the server closed the connection mid-reply")
        self.buffer += chunk
        return bool(chunk)
