"""The demo is a living site: published remixes by several fans with handles,
plays, likes, follows and one fork; seeding twice changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from marketplace.demo.remixes import seed_demo_remixes
from marketplace.demo.seed import seed_demo
from marketplace.models import Follow, RemixLike, RemixWeeklyPlay
from remixing.models import Remix

pytestmark = pytest.mark.django_db


def test_demo_publishes_remixes_with_plays_likes_follows_and_a_fork(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    result = seed_demo(log=lambda line: None)
    assert seed_demo_remixes(users=result["users"], parties=result["parties"], log=print) == 5
    counts = (
        Remix.objects.filter(status="published").count(),
        RemixLike.objects.count(),
        RemixWeeklyPlay.objects.count(),
        Follow.objects.count(),
    )
    assert seed_demo_remixes(users=result["users"], parties=result["parties"], log=print) == 0
    assert counts == (
        Remix.objects.filter(status="published").count(),
        RemixLike.objects.count(),
        RemixWeeklyPlay.objects.count(),
        Follow.objects.count(),
    )
    assert counts[0] == 5 and all(counts)
    assert Remix.objects.filter(status="published").values("fan").distinct().count() == 3
    fork = Remix.objects.get(parent__isnull=False)
    assert fork.parent.fan.handle == "luma" and fork.parent.allow_forks

    home = Client().get("/").content.decode()
    assert "Neon Tide (Luma&#x27;s Late Night Mix)" in home
    assert "“Neon Tide”</a> by Nova Lane, written by June Okafor, Theo Brandt" in home
    assert "@luma" in home and "@clearmix.demo" not in home
    page = Client().get(f"/studio/r/{fork.share_slug}/").content.decode()
    assert "Inspired by <a" in page and "by @luma, a remix of “Neon Tide”." in page
    assert f'src="/media/{fork.output_ogg.name}"' in page
    assert Client().get(f"/media/{fork.output_ogg.name}").status_code == 200

    fan = Client()
    fan.force_login(result["users"]["fan@clearmix.demo"])
    feed = fan.get("/following/").content.decode()
    assert "Neon Tide (Luma&#x27;s Late Night Mix)" in feed and "Kai&#x27;s Flip of Luma" in feed


@pytest.mark.parametrize("handle", ["luma", "dexbeats", "kai_loops"])
def test_the_demo_remixers_log_in_with_the_demo_password(settings, tmp_path, handle):
    # Probe: the README offers @luma, @dexbeats and @kai_loops (password
    # clearmix-demo), but logging in stopped at "Verify your email address".
    settings.MEDIA_ROOT = str(tmp_path)
    result = seed_demo(log=lambda line: None)
    seed_demo_remixes(users=result["users"], parties=result["parties"], log=lambda line: None)
    client = Client()
    response = client.post(
        "/accounts/login/",
        {"login": f"{handle}@clearmix.demo", "password": "clearmix-demo"},
        follow=True,
    )
    assert "/accounts/confirm-email/" not in response.redirect_chain[-1][0]
    assert client.get("/account/").status_code == 200
    assert f"@{handle}" in client.get("/account/").content.decode()
