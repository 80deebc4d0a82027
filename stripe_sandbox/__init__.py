"""A local, stateful stand-in for the subset of Stripe's API that Clearmix uses.

    server = stripe_sandbox.start(port=0, webhook_url="http://127.0.0.1:8000/stripe/webhook",
                                  webhook_secret="whsec_test")
    stripe.api_base = stripe.connect_api_base = server.url
    ...
    server.stop()

Or from a shell: ``python -m stripe_sandbox --port 12111 --webhook-url URL --webhook-secret S``.
No Django (or any third-party) imports: the server runs on the standard library.
"""

from .config import API_VERSION, SandboxConfig, WebhookEndpoint
from .router import served_operations
from .server import SandboxServer, start
from .webhooks import sign

__all__ = [
    "API_VERSION",
    "SandboxConfig",
    "SandboxServer",
    "WebhookEndpoint",
    "served_operations",
    "sign",
    "start",
]
__version__ = "1.0.0"
