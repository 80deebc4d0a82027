"""Every billing write, one module per seam: plans, customers, subscription
checkout, subscriptions, remix orders, payments, refunds and disputes.

Pattern for a POST to Stripe (issue rule: idempotency on every POST, keyed by
our own ids and saved on our record before the call):
  1. in a short transaction, create/lock our row and store the idempotency key;
  2. call Stripe with that key, outside any lock we do not need;
  3. in a second transaction, store what Stripe answered.
A crash between 1 and 3 is repaired by calling the service again: the same key
makes Stripe return the same object instead of creating a second one.

Reads from Stripe follow the same rule: a `*_fetch` function asks Stripe
outside any transaction, and the service that applies its answer opens one.
"""
