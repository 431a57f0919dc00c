"""What the server knows of every device: the registry, provisioning and broker
credentials, the console's device board, the device link, session resets, staff alerts and
retention of the device tables.
"""
