"""Staff alerts (raised by any capability, acknowledged and resolved in the console), their
history, and the notices residents read at the kiosk. Imports only the core.
"""
