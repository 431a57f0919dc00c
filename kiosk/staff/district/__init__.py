"""The district overview: every centre of the deployment side by side (issue 18)."""
