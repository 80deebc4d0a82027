"""`{{ fieldfile|media_url }}`: a file's address through the media door.

Never `fieldfile.url` in a template: on S3 that is a signed URL to the object
itself, handed to whoever sees the page. The media view checks the owner's
rights on every request, then streams the file or redirects to a fresh,
short-lived signed URL.
"""

from django import template

from remixing.storage import media_url as _media_url

register = template.Library()


@register.filter
def media_url(fieldfile) -> str:
    return _media_url(fieldfile) if fieldfile else ""
