"""Tables of lending: tool types and items, loans and their events, door sessions,
mismatches between a locker and the records.
"""
