"""Tables of alerts: staff alerts and resident notifications."""
