"""Every write of the royalties app, one module per seam.

Money flow (Stripe Connect, separate charges and transfers):

1. `settlements` — paid orders: cash in, platform fee, one payable per rights
   holder line, once per order_ref; many orders per database transaction in a
   fixed number of statements (`settlement_plan` computes the splits,
   `settlement_rows` writes the rows).
2. `transfers` — one Stripe Transfer per payable line of an onboarded party
   (payable → paid_out on success). Parties not onboarded accrue; `sweeps`
   pays what is owed once they can receive.
3. `refunds` — a refund or dispute spread pro rata over what is left of each
   line; `reversals` takes back what lines already transferred, or records a
   receivable from the party when the reversal cannot be made. A won dispute
   reinstates the money and pays again.
4. `payees` — Connect Express accounts and onboarding.

`movements` holds what transfers and reversals share (attempts, backoff, the
payout ledger move). Stripe calls are never made inside a database
transaction: the record with its idempotency key is committed first, then the
SDK is called, then the result is recorded in a second transaction. Services
queue tasks by name through `royalties.enqueue`; they never import the tasks.

Import from the module that owns a write (`royalties.services.refunds`); this
package re-exports nothing.
"""
