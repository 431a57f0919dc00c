"""Study seats and activity rooms: one booking model, the rules a booking must pass, who
holds a slot (occupancy), closures, series, the waitlist, no-show strikes, reminders and the
scheduled booking jobs.
"""
