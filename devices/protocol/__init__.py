"""The device protocol at the edge (docs/protocol.md): topics, size limit, schema
validation, typed messages, and which device times the server believes.
"""
