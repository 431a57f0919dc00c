"""The console's health pages: follow-up alerts, residents' readings, consent and export."""
