"""The console's device board: each device, its compartments and faults, and maintenance."""
