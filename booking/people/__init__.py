"""Residents and staff: registration, sign-in with argon2id-hashed PINs and passwords,
revocable server-side sessions, and the resident record staff see.
"""
