"""The shared core every capability stands on: the database and its unit of work, the
injectable clock, domain errors, the audit log, sites and their local time, service uptime,
once-only sends, row-lock order and retention. Imports no capability.
"""
