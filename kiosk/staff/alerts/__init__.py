"""The console's alert inbox, its live stream and history, and the words of each alert."""
