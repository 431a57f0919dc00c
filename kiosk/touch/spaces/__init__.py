"""The kiosk's study-seat and activity-room pages: booking, checking in, the resident's
own bookings, the booking slip and its calendar file.
"""
