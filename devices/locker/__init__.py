"""The smart locker: its events that move door sessions on, opening a compartment for a
door session or for maintenance, and reconciling its full state with the lending records.
"""
