"""The console's lending pages: records, overdue loans, the counter, and the checks
where a locker and the records disagree.
"""
