"""Tool lending: the catalogue, loans and reservations, the locker door session (pickup
and return as one), the counter, reconciliation with what lockers report, the staff's
records and the scheduled lending jobs.
"""
