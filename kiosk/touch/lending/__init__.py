"""The kiosk's tool pages: the catalogue, borrowing and returning at a locker (one door
session, one flow), and the words residents read about loans.
"""
