"""Tables of health: readings, consent, settings and terminal pairings."""
