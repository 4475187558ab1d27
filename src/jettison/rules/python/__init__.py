"""Python runtime rules: interpreter settings, production servers, worker recycling, signals."""
