"""The blood-pressure terminal: its events, handed to booking.health."""
