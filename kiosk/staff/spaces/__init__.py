"""The console's booking pages: the calendar, approvals, closures, series and suspensions."""
