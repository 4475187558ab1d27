"""cache rules."""
