"""The console's centre set-up pages: hours, spaces and seats, tools and items, the
lending policy and devices; every change goes through booking.admin and is audited.
"""
