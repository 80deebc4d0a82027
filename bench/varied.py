"""Search load whose every request asks for different words, so no cache answers it.

The list caches key a search on its words; a benchmark repeating one word measures the
cache after the first request. Here each request's `q` (two catalog words) and genre come
from a counter that walks 90 x 90 x 9 combinations from a random start, so a run of tens of
thousands of requests meets each combination about once: what a site sees from searches it
has not answered before, including the ones that find nothing and retry for typos.

A URL template holds `{q}` where the words and filter go (`/tracks/?{q}`).
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from bench.catalog import GENRES, VOCAB

MARK = "{q}"
GENRE_PARAMS = ["", *(f"&genre={genre.replace(' ', '+')}" for genre in GENRES)]


def varied_query(n: int) -> str:
    """The query string of the n-th request of a varied run."""
    first = VOCAB[n % len(VOCAB)]
    second = VOCAB[(n // len(VOCAB)) % len(VOCAB)]
    genre = GENRE_PARAMS[(n // len(VOCAB) ** 2) % len(GENRE_PARAMS)]
    return f"q={first}+{second}{genre}"


def varied_start() -> int:
    """A random place in the cycle, so two runs (or two levels) do not repeat each other."""
    return random.randrange(len(VOCAB) ** 2 * len(GENRE_PARAMS))


def _lua_list(items: list[str]) -> str:
    return "{" + ", ".join(f'"{item}"' for item in items) + "}"


def wrk_script(template_path: str) -> Path:
    """A wrk Lua script requesting `template_path` with `varied_query(n)` in place of
    `{q}`; wrk passes the start after `--`, and each thread takes its own stretch of
    the counter."""
    prefix, _, suffix = template_path.partition(MARK)
    script = f"""
local words = {_lua_list(list(VOCAB))}
local genres = {_lua_list(GENRE_PARAMS)}
local threads = 0
function setup(thread)
  thread:set("stride", threads)
  threads = threads + 1
end
function init(args)
  n = tonumber(args[1]) + stride * 1000003
end
function request()
  n = n + 1
  local w = #words
  local first = words[(n % w) + 1]
  local second = words[(math.floor(n / w) % w) + 1]
  local genre = genres[(math.floor(n / (w * w)) % #genres) + 1]
  return wrk.format(nil, "{prefix}q=" .. first .. "+" .. second .. genre .. "{suffix}")
end
"""
    handle = tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="varied-", delete=False)
    with handle:
        handle.write(script)
    return Path(handle.name)
