"""Linli's domain: models and the rules of seats, rooms, tools, loans, residents and health readings.

Pure Python and SQLAlchemy: nothing here knows about Flask or MQTT.
"""
