"""The site shell: browse and discovery, plans, subscriptions, remix purchases
and fulfilment, the Stripe webhook endpoint, the licensing audit."""
