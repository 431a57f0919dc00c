"""Tables of spaces: spaces and seats, bookings, series, closures, waitlist, strikes."""
