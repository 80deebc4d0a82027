"""Shared HTML shell for hosted pages: inline CSS, no scripts, no external assets."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

_CSS = """
:root { color-scheme: light; --ink: #1a1f36; --muted: #4f566b; --line: #d5dbe1; --accent: #533afd; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #f6f8fa; }
main { max-width: 32rem; margin: 2rem auto; padding: 2rem; background: #fff;
       border: 1px solid var(--line); border-radius: 8px; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.badge { display: inline-block; font-size: .75rem; font-weight: 600; padding: .1rem .5rem;
         border-radius: 4px; background: #ffde92; color: #5c3c00; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .35rem 0; border-bottom: 1px solid var(--line); }
td.num, th.num { text-align: right; }
fieldset { border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin: 1rem 0; }
legend { font-weight: 600; padding: 0 .25rem; }
label { display: block; font-weight: 600; margin-top: .75rem; }
input { width: 100%; font: inherit; padding: .5rem .6rem; border: 1px solid #8792a2;
        border-radius: 4px; }
input:focus, button:focus { outline: 3px solid #9b8cff; outline-offset: 1px; }
input[aria-invalid="true"] { border-color: #c0123c; }
.hint { color: var(--muted); font-size: .875rem; margin: .25rem 0 0; }
.error { color: #8a0a2b; background: #fde8ec; border: 1px solid #c0123c; border-radius: 4px;
         padding: .5rem .75rem; margin: 1rem 0; }
.actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
button { font: inherit; font-weight: 600; padding: .6rem 1.2rem; border-radius: 6px;
         border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
code { font-size: .9em; }
"""


@dataclass
class Page:
    title: str
    body: str
    status: int = 200
    extra_head: list[str] = field(default_factory=list)

    def render(self) -> str:
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="robots" content="noindex">\n'
            f"<title>{escape(self.title)}</title>\n<style>{_CSS}</style>\n"
            + "".join(self.extra_head)
            + "</head>\n<body>\n<main>\n"
            + '<p><span class="badge">Test mode &middot; Stripe sandbox</span></p>\n'
            + self.body
            + "\n</main>\n</body>\n</html>\n"
        )


def message_page(
    title: str, message: str, status: int, link: tuple[str, str] | None = None
) -> Page:
    body = f"<h1>{escape(title)}</h1>\n<p>{escape(message)}</p>"
    if link:
        body += f'\n<p><a href="{escape(link[0])}">{escape(link[1])}</a></p>'
    return Page(title, body, status)
