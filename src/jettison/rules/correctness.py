"""correctness rules."""
