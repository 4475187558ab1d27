"""Build-context rules: .dockerignore presence and coverage, secrets, context size."""
