"""Licensing audit for staff auditors: anomalies, remix trails, search,
exports, integrity checks. Reads everything, writes only CheckRun rows and
(through catalog.audit_log) staff audit entries."""
