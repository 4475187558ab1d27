"""The codes jettison prints that are no Dockerfile rule: the findings of ``jettison deps``
(JT9xx) and ``jettison inspect`` (JIxxx), and the multi-stage conversion of
``jettison fix --unsafe-fixes``. Declared here, beside the rule registry, so that one place
owns every code (:func:`jettison.rules.registry.all_codes` lists these with the rules').
Code that emits one of them uses its constant, never the literal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CodeInfo:
    code: str
    name: str
    emitted_by: str  # the command or part of jettison that prints it


OTHER_CODES: dict[str, CodeInfo] = {}


def _declare(code: str, name: str, emitted_by: str) -> str:
    if code in OTHER_CODES:
        raise ValueError(f"duplicate code {code}")
    OTHER_CODES[code] = CodeInfo(code, name, emitted_by)
    return code


# `jettison deps` (and rule JT605, which reports the same analysis in `jettison audit`)
UNUSED_DISTRIBUTION = _declare("JT901", "unused-distribution", "jettison deps")
UNDECLARED_IMPORT = _declare("JT902", "undeclared-import", "jettison deps")
UNDECLARED_TRANSITIVE = _declare("JT903", "undeclared-transitive", "jettison deps")
ONLY_NEEDED_BY_ANOTHER = _declare("JT904", "only-needed-by-another", "jettison deps")
DEV_DEPENDENCY_IN_RUNTIME = _declare("JT905", "dev-dependency-in-runtime", "jettison deps")
DEV_DEPENDENCY_IMPORTED_AT_RUNTIME = _declare(
    "JT906", "dev-dependency-imported-at-runtime", "jettison deps"
)

# `jettison inspect`
THRESHOLD_FAILED = _declare("JI001", "fail-on-<threshold>", "jettison inspect --fail-on")
UNSAFE_LAYER_ENTRY = _declare("JI002", "unsafe-layer-entry", "jettison inspect")
LARGE_FILES = _declare("JI003", "large-files", "jettison inspect")
DOCS_MAN_LOCALE = _declare("JI004", "docs-man-locale", "jettison inspect")
DUPLICATE_CONTENT = _declare("JI005", "duplicate-content", "jettison inspect")

# the multi-stage conversion of `jettison fix --unsafe-fixes` is no rule but has a code, so
# `--ignore MULTISTAGE` turns it off
MULTISTAGE = _declare("MULTISTAGE", "multi-stage-conversion", "jettison fix --unsafe-fixes")

# library packages the final stage installs and nothing in the built image loads, decided on
# the engine by `jettison fix --unsafe-fixes` (`--ignore UNUSEDLIBS` turns it off)
UNUSED_LIBRARIES = _declare("UNUSEDLIBS", "unused-library-packages", "jettison fix --unsafe-fixes")

# Python distributions the image installs and nothing uses, decided from the built image's
# own metadata by `jettison fix --unsafe-fixes --verify` (`--ignore UNUSEDDISTS` turns it off)
UNUSED_DISTRIBUTIONS = _declare(
    "UNUSEDDISTS", "unused-python-distributions", "jettison fix --unsafe-fixes --verify"
)
