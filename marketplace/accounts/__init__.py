"""Account deletion, which orchestrates remixes, claims and billing.

Users, roles, handles and display names live in the accounts app.
"""
