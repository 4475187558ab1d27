"""The CI gate: ``--fail-on KEY=VALUE``, ``[tool.jettison.inspect.fail-on]`` and ``.dive-ci``.

Keys (dive's own names are accepted as aliases, snake- or camel-case):

==========================  ==========================================  =================
key                         fails when                                  value
==========================  ==========================================  =================
``size``                    image size (final filesystem bytes) >       bytes (``500MB``)
``reclaimable-bytes``       reclaimable bytes >                         bytes
``reclaimable-percent``     reclaimable bytes / all layer bytes * 100 > percent 0-100
``efficiency``              dive efficiency <                           ratio 0-1
``wasted-bytes``            dive wasted bytes >                         bytes
``user-wasted-percent``     dive user-wasted ratio >                    ratio 0-1 (dive)
==========================  ==========================================  =================

Precedence: command line, then the config file, then ``.dive-ci``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from jettison.errors import JettisonError
from jettison.rules.codes import THRESHOLD_FAILED

if TYPE_CHECKING:
    from jettison.image.analysis import ImageReport

_ALIASES = {
    "size": "size",
    "image-size": "size",
    "size-bytes": "size",
    "reclaimable-bytes": "reclaimable-bytes",
    "reclaimable": "reclaimable-bytes",
    "reclaimable-percent": "reclaimable-percent",
    "efficiency": "efficiency",
    "lowest-efficiency": "efficiency",
    "lowestefficiency": "efficiency",
    "wasted-bytes": "wasted-bytes",
    "highest-wasted-bytes": "wasted-bytes",
    "highestwastedbytes": "wasted-bytes",
    "user-wasted-percent": "user-wasted-percent",
    "highest-user-wasted-percent": "user-wasted-percent",
    "highestuserwastedpercent": "user-wasted-percent",
}
KEYS = (
    "size",
    "reclaimable-bytes",
    "reclaimable-percent",
    "efficiency",
    "wasted-bytes",
    "user-wasted-percent",
)
_BYTES = {"size", "reclaimable-bytes", "wasted-bytes"}
_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "ki": 2**10,
    "kib": 2**10,
    "mi": 2**20,
    "mib": 2**20,
    "gi": 2**30,
    "gib": 2**30,
    "ti": 2**40,
    "tib": 2**40,
}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$")
_OFF = {"", "disabled", "off", "false"}


def parse_bytes(text: str) -> int:
    """go-humanize's ParseBytes: ``20MB`` = 20*10^6, ``20MiB`` = 20*2^20, ``20`` = bytes."""
    m = _SIZE.match(text)
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS:
        raise ValueError(f"not a size: {text!r} (examples: 500MB, 1.5GiB, 1048576)")
    return int(float(m.group(1)) * _UNITS[unit])


class Threshold(NamedTuple):
    key: str
    value: float
    text: str
    origin: str  # "command line", a config path, or a .dive-ci path


def _normal_key(key: str, origin: str | None = None) -> str:
    k = key.strip().lower().replace("_", "-")
    found = _ALIASES.get(k) or _ALIASES.get(k.replace("-", ""))
    if found is None:
        where = None if origin in (None, "--fail-on") else origin
        raise JettisonError(f"unknown threshold {key!r} (choose from {', '.join(KEYS)})", where)
    return found


def make(key: str, raw: Any, origin: str) -> Threshold | None:
    k = _normal_key(str(key), origin)
    text = str(raw).strip()
    if text.lower() in _OFF:
        return None
    try:
        value = float(parse_bytes(text)) if k in _BYTES else float(text.rstrip("%"))
    except ValueError as exc:
        raise JettisonError(f"threshold {key}: {exc}", origin) from None
    if k in ("efficiency", "user-wasted-percent") and not 0 <= value <= 1:
        raise JettisonError(f"threshold {key} must be a ratio between 0 and 1, got {text}", origin)
    if k == "reclaimable-percent" and not 0 <= value <= 100:
        raise JettisonError(f"threshold {key} must be a percent between 0 and 100", origin)
    return Threshold(k, value, text, origin)


def from_cli(values: tuple[str, ...]) -> dict[str, Threshold]:
    out: dict[str, Threshold] = {}
    for item in values:
        for part in item.split(","):
            if not part.strip():
                continue
            key, sep, raw = part.partition("=")
            if not sep:
                raise JettisonError(f"--fail-on expects KEY=VALUE, got {part!r}")
            t = make(key, raw, "--fail-on")
            if t is not None:
                out[t.key] = t
            else:
                out.pop(_normal_key(key), None)
    return out


def from_config(raw: dict[str, Any], origin: str) -> dict[str, Threshold]:
    inspect = raw.get("inspect")
    if inspect is None:
        return {}
    if not isinstance(inspect, dict):
        raise JettisonError("[tool.jettison] inspect must be a table", origin)
    table = inspect.get("fail-on", inspect.get("fail_on"))
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise JettisonError("[tool.jettison.inspect] fail-on must be a table", origin)
    out: dict[str, Threshold] = {}
    for key, value in table.items():
        t = make(str(key), value, origin)
        if t is not None:
            out[t.key] = t
    return out


def from_dive_ci(path: Path) -> dict[str, Threshold]:
    """dive's ``.dive-ci``: ``rules:`` with lowestEfficiency, highestWastedBytes, ..."""
    import yaml  # only when a .dive-ci file exists

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:  # "<unicode string>", line 3 ...: say file:line
        mark = exc.problem_mark
        reason = exc.problem or "invalid YAML"
        line = mark.line + 1 if mark is not None else None
        raise JettisonError(f"cannot read dive CI config: {reason}", str(path), line) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise JettisonError(f"cannot read dive CI config: {exc}", str(path)) from None
    if data is None:
        return {}  # an empty file
    if not isinstance(data, dict):
        raise JettisonError("not a dive CI config: expected a mapping with 'rules'", str(path))
    rules = data.get("rules")
    if rules is None:
        return {}
    if not isinstance(rules, dict):
        raise JettisonError("'rules' must be a mapping", str(path))
    out: dict[str, Threshold] = {}
    for key, value in rules.items():
        t = make(str(key), value, str(path))
        if t is not None:
            out[t.key] = t
    return out


def merge(*layers: dict[str, Threshold]) -> dict[str, Threshold]:
    """Earlier arguments win."""
    out: dict[str, Threshold] = {}
    for layer in reversed(layers):
        out.update(layer)
    return out


def evaluate(
    thresholds: dict[str, Threshold], numbers: dict[str, float | None]
) -> list[tuple[Threshold, float, str]]:
    """Failed thresholds with the measured value and a message."""
    failed = []
    for key in KEYS:
        t = thresholds.get(key)
        if t is None:
            continue
        value = numbers.get(key)
        if value is None:
            continue
        if key == "efficiency":
            bad = value < t.value
            msg = f"dive efficiency {value:.4f} is below {t.text}"
        elif key in _BYTES:
            bad = value > t.value
            msg = f"{key} {int(value):,} bytes is above {t.text}"
        elif key == "reclaimable-percent":
            bad = value > t.value
            msg = f"reclaimable {value:.2f}% is above {t.text}%"
        else:
            bad = value > t.value
            msg = f"dive user-wasted ratio {value:.4f} is above {t.text}"
        if bad:
            failed.append((t, value, msg))
    return failed


def apply_gate(
    report: ImageReport, thresholds: dict[str, Threshold]
) -> list[tuple[Threshold, float, str]]:
    """Evaluate the gate on ``report``; each failed threshold is added as a JI001 finding."""
    from jettison.findings import Finding, Severity

    failed = evaluate(thresholds, report.numbers())
    for t, _value, message in failed:
        origin = "" if t.origin == "--fail-on" else f" ({t.origin})"
        report.findings.append(
            Finding(
                THRESHOLD_FAILED,
                f"CI threshold failed{origin}: {message}",
                f"image:{report.image}",
                1,
                1,
                Severity.ERROR,
                rule_name=f"fail-on-{t.key}",
            )
        )
    return failed


def load_gate(
    fail_on: tuple[str, ...], config_path: str | None, dive_ci: str | None
) -> dict[str, Threshold]:
    """The CI gate: ``--fail-on`` values over the config file's over ``.dive-ci``'s."""
    from jettison.config import load_config

    given = from_cli(fail_on)
    config = load_config(explicit=Path(config_path) if config_path else None)
    configured = from_config(config.raw, config.source or "<config>")
    dive_path = Path(dive_ci) if dive_ci else Path(".dive-ci")
    if dive_ci and not dive_path.is_file():
        raise JettisonError("no such file", dive_ci)
    dive = from_dive_ci(dive_path) if dive_path.is_file() else {}
    return merge(given, configured, dive)
