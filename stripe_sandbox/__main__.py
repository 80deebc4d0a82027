"""Command line entry point.

``python -m stripe_sandbox --host 127.0.0.1 --port 12111 --webhook-url URL --webhook-secret S``
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

from .config import SandboxConfig
from .server import SandboxServer, build_endpoints


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m stripe_sandbox", description="Local Stripe API sandbox."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument(
        "--public-url", help="base URL clients and browsers use (default http://HOST:PORT)"
    )
    parser.add_argument("--webhook-url", help="where events are POSTed")
    parser.add_argument(
        "--webhook-secret", help="signing secret (whsec_...); generated when omitted"
    )
    parser.add_argument(
        "--connect-webhook-url", help="separate endpoint for connected-account events"
    )
    parser.add_argument("--connect-webhook-secret")
    parser.add_argument("--state-file", help="JSON file to persist state across restarts")
    parser.add_argument(
        "--retry-base-delay", type=float, default=1.0, help="seconds before the first webhook retry"
    )
    parser.add_argument(
        "--max-attempts", type=int, default=5, help="webhook delivery attempts per event"
    )
    parser.add_argument(
        "--lenient-params", action="store_true", help="accept params Stripe would reject as unknown"
    )
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM (docker stop) should shut down and persist state just like Ctrl-C.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    config = SandboxConfig(
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        state_file=args.state_file,
        retry_base_delay=args.retry_base_delay,
        max_attempts=args.max_attempts,
        strict_params=not args.lenient_params,
    )
    config.endpoints = build_endpoints(
        args.webhook_url, args.webhook_secret, args.connect_webhook_url, args.connect_webhook_secret
    )
    server = SandboxServer(config)
    log = logging.getLogger("stripe_sandbox")
    log.info("Stripe sandbox listening on %s", server.url)
    for endpoint in config.endpoints:
        log.info("webhooks (%s) -> %s secret=%s", endpoint.kind, endpoint.url, endpoint.secret)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("stopping")
    return 0


if __name__ == "__main__":
    sys.exit(main())
