"""Local development and the one-command demo."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
