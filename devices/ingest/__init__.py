"""Inbound device messages: validated, applied in one write transaction per batch, written
to the ledger, refused ones kept as dead letters; which domain code reacts to which event.
"""
