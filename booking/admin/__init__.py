"""What a centre's admins set up: opening hours, spaces and seats, tools and the lending
policy. Each change is checked and audited.
"""
