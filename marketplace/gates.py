"""Gates marketplace registers with the apps below it.

remixing may not import marketplace, yet the studio and the remix API are for
entitled fans only (Premium + Remix add-on, as Stripe says through webhooks).
"""

from __future__ import annotations

from marketplace.billing.entitlements import fan_entitlement


def studio_gate(*, user) -> list[dict]:
    return [dict(item) for item in fan_entitlement(user=user).missing]
