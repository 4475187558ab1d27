"""Correctness rules that matter to a fixer: things that break builds or make edits unsafe."""
