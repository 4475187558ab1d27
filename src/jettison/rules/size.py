"""size rules."""
