"""Server-to-device commands: issued into an outbox in the caller's transaction, sent
only by the worker's bridge, replies recorded, overdue ones timed out.
"""
