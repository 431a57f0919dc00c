"""The kiosk's blood-pressure pages: a resident's readings, what they mean, and consent."""
