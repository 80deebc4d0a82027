"""A remix's whole licensing story, one builder per source.

Each module loads its own records and turns them into `TrailItem`s:
`consent` (consent events relied on, takedowns), `splits`, `jobs` (the
remix's status history), `orders` (orders, payments, refunds to the fan),
`webhooks` (the Stripe events about them), `money` (settlements, lines,
transfers, reversals, ledger refunds, blocks, what each party got) and
`staff` (the staff audit log). `marketplace.audit.selectors.remix_trail`
puts them together in one chronological story.
"""
