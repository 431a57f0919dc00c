"""Tables of the core: sites, the audit log, heartbeats and outages, once-only sends."""
