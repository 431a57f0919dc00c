"""The console's insight charts and their CSV files."""
