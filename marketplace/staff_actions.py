"""The staff actions the marketplace writes to catalog's staff audit log.

Catalog's log takes any action name; each app names its own, so the bottom
app knows nothing of orders, transfers or accounts.
"""


class Action:
    ORDER_REFUND = "order.refund"
    TRANSFER_RETRY = "transfer.retry"
    CORRECTION = "ledger.correction"
    EXPORT = "export"
    ACCOUNT_DELETE = "account.delete"
