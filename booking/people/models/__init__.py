"""Tables of people: residents and memberships, staff accounts, sign-in sessions."""
