"""Messages to residents outside the kiosk (SMS): an outbox written in the transaction of
the event that causes a message, each resident's choices per kind, quiet hours, and the
worker's sending with retries and backoff.

Below the other capabilities and beside alerts: ``booking.alerts.notifications.notify`` feeds
every kiosk notice into the outbox, so this package's outbox side imports only the core and
the residents' models. Only :mod:`booking.messages.sending` (run by the worker) imports
alerts, to tell staff of a message that could not be sent.
"""
