"""The numbers behind the console's insight charts, counted by the database."""
