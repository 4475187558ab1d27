"""Imports through the ``jaraco`` PEP 420 namespace, and a first-party namespace ``acme``."""

import jaraco.context
from acme.billing import invoice
from jaraco.functools import compose


def total(lines: list[float]) -> float:
    with jaraco.context.suppress(ValueError):
        return compose(round, sum)(lines) + invoice.FEE
    return 0.0
