"""jettison: smaller images, faster cached builds, safer defaults - measured on a real engine.

The package is a typed library first; :mod:`jettison.cli` only parses arguments, calls the
library and renders. Start at :func:`jettison.audit.audit_paths` for linting,
:mod:`jettison.dockerfile` for the Dockerfile model.
"""

__version__ = "0.1.0"
