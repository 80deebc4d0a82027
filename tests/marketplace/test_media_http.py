"""Media over real HTTP against the live server: every role against every kind
of file, and a corpus of path tricks against every media prefix.

Requests go out byte for byte (tests.marketplace.media_world.raw_get, and
RawClient for a sweep's requests over one kept-alive connection): what the
server decodes is exactly what an attacker sent.
"""

from __future__ import annotations

import pytest

from .media_world import PRIVATE, RIGHTS, ROLES, RawClient, add_symlinks, build_world, raw_get

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return build_world(tmp_path / "media")


def _leaks(world, body: bytes) -> list[str]:
    return [kind for kind, data in world.content.items() if data and data in body]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_exactly_the_files_it_has_a_right_to(live_server, world, role):
    cookie = world.cookie(role)
    wrong = []
    with RawClient(live_server.url) as client:
        for kind, allowed in RIGHTS.items():
            reply = client.get(f"/media/{world.files[kind]}", cookie=cookie)
            expected = 200 if role in allowed else 404
            if reply.status != expected or (expected == 200 and reply.body != world.content[kind]):
                wrong.append(f"{kind}: {reply.status}, expected {expected}")
            if expected == 404 and _leaks(world, reply.body):
                wrong.append(f"{kind}: 404 page carries file bytes")
    assert not wrong, wrong


def test_byte_ranges_still_work_for_those_with_the_right(live_server, world):
    name, data = world.files["preview_excerpt"], world.content["preview_excerpt"]
    reply = raw_get(live_server.url, f"/media/{name}", headers={"Range": "bytes=2-9"})
    assert reply.status == 206
    assert reply.headers["content-range"] == f"bytes 2-9/{len(data)}"
    assert reply.body == data[2:10]
    refused = raw_get(live_server.url, f"/media/{name}", headers={"Range": "bytes=9999-"})
    assert refused.status == 416
    private = raw_get(
        live_server.url, f"/media/{world.files['master']}", headers={"Range": "bytes=0-5"}
    )
    assert private.status == 404  # a range asks for no fewer rights than the whole


# --- The path-trick corpus ----------------------------------------------------------

# Ways to climb one folder up, each spelled so a naive check misses it.
UP = {
    "dot-dot": "../",
    "pct-lower": "%2e%2e/",
    "pct-upper": "%2E%2E/",
    "pct-mixed-case": "%2e%2E/",
    "half-encoded": ".%2e/",
    "half-encoded-other": "%2e./",
    "double-encoded": "%252e%252e/",
    "double-encoded-slash": "..%252f",
    "encoded-slash": "..%2f",
    "all-encoded": "%2e%2e%2f",
    "encoded-backslash": "..%5c",
    "raw-backslash": "..\\",
    "overlong-dot-2-bytes": "%c0%ae%c0%ae/",
    "overlong-dot-3-bytes": "%e0%80%ae%e0%80%ae/",
    "overlong-slash": "..%c0%af",
    "fullwidth-dots": "%ef%bc%8e%ef%bc%8e/",
    "two-dot-leader": "%e2%80%a5/",
    "nul-after-dots": "..%00/",
    "tab-after-dots": "..%09/",
    "semicolon": "..;/",
    "triple-dot": ".../../",
    "dot-then-dot-dot": "./../",
    "doubled-slash": "..//",
}


# Ways to name a file directly, each not its canonical spelling.
def _shapes(target: str, root: str) -> dict[str, str]:
    folder, _, base = target.rpartition("/")
    return {
        "nul-truncation": f"{target}%00.ogg",
        "trailing-slash": f"{target}/",
        "trailing-dot-segment": f"{target}/.",
        "trailing-dot": f"{target}.",
        "trailing-space": f"{target}%20",
        "ntfs-stream": f"{target}::$DATA",
        "leading-double-slash": f"/{target}",
        "encoded-leading-slash": f"%2f{target}",
        "absolute-filesystem-path": f"{root}/{target}",
        "encoded-absolute-path": f"{root}/{target}".replace("/", "%2f"),
        "dot-segment-inside": f"{folder}/./{base}",
        "doubled-slash-inside": f"{folder}//{base}",
        "self-climb": f"{folder}/../{folder.rsplit('/', 1)[-1]}/{base}",
        "upper-case": target.upper(),
        "mixed-case-prefix": target[0].upper() + target[1:],
        "backslash-separators": target.replace("/", "\\"),
        "encoded-backslash-separators": target.replace("/", "%5c"),
    }


def _prefixes(world) -> dict[str, str]:
    """Every media prefix, as the folder a trick starts from."""
    return {
        "catalog/recordings": "catalog/recordings",
        "catalog/stems": "catalog/stems",
        "remixing/stems": world.files["separated_preview"].rsplit("/", 1)[0],
        "remixing/remixes": world.files["remix_published"].rsplit("/", 1)[0],
        "remixing/previews": world.files["preview_excerpt"].rsplit("/", 1)[0],
    }


def _check(live_server, world, paths: dict[str, str]) -> list[str]:
    """Every path, as every role: a clear 4xx, and no file's bytes."""
    failures = []
    for role in ROLES:
        cookie = world.cookie(role)
        with RawClient(live_server.url) as client:
            for label, path in paths.items():
                reply = client.get(f"/media/{path}", cookie=cookie)
                leaked = _leaks(world, reply.body)
                if reply.status not in (400, 404) or leaked:
                    failures.append(f"{role}, {label}: {path} -> {reply.status} {leaked or ''}")
    return failures


PREFIXES = (
    "catalog/recordings",
    "catalog/stems",
    "remixing/stems",
    "remixing/remixes",
    "remixing/previews",
)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_climbing_out_of_a_media_prefix_never_reaches_a_file(live_server, world, prefix):
    start = _prefixes(world)[prefix]
    depth = start.count("/") + 1
    paths = {
        f"{trick} -> {kind}": f"{start}/{up * depth}{world.files[kind]}"
        for trick, up in UP.items()
        for kind in PRIVATE
    }
    assert len(paths) >= 20 * len(PRIVATE)
    assert not _check(live_server, world, paths)


def test_no_other_spelling_of_a_file_name_is_served(live_server, world):
    paths = {
        f"{shape} -> {kind}": path
        for kind in (*PRIVATE, "remix_published", "preview_excerpt")
        for shape, path in _shapes(world.files[kind], str(world.root)).items()
    }
    assert not _check(live_server, world, paths)


def test_symlinks_are_never_followed_out_of_their_owners_file(live_server, world):
    links = add_symlinks(world)
    assert len(links) >= 5
    assert not _check(live_server, world, {name: name for name in links})
