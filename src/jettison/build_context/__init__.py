"""Build contexts: size, ``.dockerignore`` (Docker's own matching), secrets."""
