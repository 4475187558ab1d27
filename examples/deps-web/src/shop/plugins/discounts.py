"""A first-party PEP 420 namespace package (no __init__.py)."""


def discount(cents: int) -> int:
    return cents * 9 // 10
