"""python rules."""
