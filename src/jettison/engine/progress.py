"""BuildKit progress output parsed into per-step records.

Two formats carry the same information (BuildKit's ``SolveStatus`` stream):

* ``--progress=plain``: what every BuildKit-capable docker client prints on stderr. Each
  vertex is ``#N`` followed by its name on first sight, then log lines (``#N 0.414 text``),
  status lines (``#N transferring context: 2B done``) and one terminal line: ``#N DONE 2.4s``,
  ``#N CACHED``, ``#N ERROR: message`` or ``#N CANCELED``. Vertices running in parallel
  interleave; a vertex that is interrupted by another prints ``#N ...`` and repeats its name
  when it resumes. After the last vertex, a failed build prints a trailer (``------``,
  `` > [3/4] RUN ...:``, the log tail and the solver's error).
* ``--progress=rawjson`` (buildx): one JSON ``SolveStatus`` per line with ``vertexes``
  (digest, name, started, completed, cached, error) and ``logs`` (vertex, base64 data).

Both parsers are incremental (``feed`` one line, get the step it touched) so the bench's
progress bars can follow a build live, and both end in the same :class:`BuildProgress`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

StepKind = Literal["internal", "from", "step", "export", "other"]

_NAME = re.compile(r"^\[(?:(?P<stage>[^\]\s]+) )?(?P<index>\d+)/(?P<total>\d+)\] (?P<text>.*)$")
_PLAIN = re.compile(r"^#(?P<id>\d+) ?(?P<rest>.*)$")
_LOG = re.compile(r"^(?P<ts>\d+\.\d+) ?(?P<text>.*)$")
_DONE = re.compile(r"^DONE (?P<secs>\d+(?:\.\d+)?)s$")
_IMAGE = re.compile(r"(?:writing image|exporting manifest|exporting config) (sha256:[0-9a-f]{64})")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
# a layer transfer under a vertex ("sha256:<hex> 11.70MB / 11.70MB 0.1s done"): BuildKit
# fetching the step's result from an imported cache (a registry's), not running it
_LAYER_PULL = re.compile(r"^sha256:[0-9a-f]{64} ")

# a failing step keeps this many log lines for the error message
LOG_TAIL = 30


@dataclass
class Step:
    """One BuildKit vertex: a Dockerfile instruction, or BuildKit's own work around it."""

    vertex: str  # "#5" (plain) or the vertex digest (rawjson)
    name: str  # as BuildKit shows it: "[builder 2/4] RUN pip install ..."
    order: int  # first appearance in the output
    kind: StepKind = "other"
    stage: str | None = None  # "builder", "stage-2"; None in a single-stage build
    index: int | None = None  # position of the instruction within its stage (1 = FROM)
    total: int | None = None
    instruction: str = ""  # the instruction text with BuildKit's prefix removed
    seconds: float | None = None
    cached: bool = False
    error: str | None = None
    canceled: bool = False
    log: list[str] = field(default_factory=list)
    started: datetime | None = None  # rawjson: when the solver started it

    @property
    def finished(self) -> bool:
        return self.cached or self.canceled or self.error is not None or self.seconds is not None

    @property
    def counts(self) -> bool:
        """Dockerfile instructions that do work and can be cached (not FROM, not internal)."""
        return self.kind == "step"


@dataclass
class BuildProgress:
    steps: list[Step] = field(default_factory=list)
    trailer: list[str] = field(default_factory=list)  # lines after the vertices (errors)
    image_id: str | None = None
    buildkit: bool = False  # the output was BuildKit's (a legacy builder prints "Step 1/6")

    @property
    def instructions(self) -> list[Step]:
        return [s for s in self.steps if s.counts]

    @property
    def failed_step(self) -> Step | None:
        failed = [s for s in self.steps if s.error is not None]
        # the first error is the cause; steps failing later were canceled by it
        return failed[0] if failed else None

    @property
    def steps_total(self) -> int:
        return len(self.instructions)

    @property
    def steps_cached(self) -> int:
        return sum(1 for s in self.instructions if s.cached)


def classify(step: Step) -> None:
    """Fill kind, stage, index and instruction from the vertex name."""
    name = step.name
    match = _NAME.match(name)
    if match:
        step.stage = match.group("stage")
        step.index = int(match.group("index"))
        step.total = int(match.group("total"))
        step.instruction = match.group("text")
        keyword = step.instruction.split(None, 1)[0].upper() if step.instruction else ""
        step.kind = "from" if keyword == "FROM" else "step"
    elif name.startswith("[internal]"):
        step.kind = "internal"
        step.instruction = name[len("[internal]") :].strip()
    elif name.startswith(("exporting to", "exporting cache", "writing image")):
        step.kind = "export"
        step.instruction = name
    else:
        step.kind = "other"
        step.instruction = name


def _from_imported_cache(step: Step, pulled: bool) -> None:
    """A Dockerfile step that finished having only fetched layers (no output of its own)
    came from an imported cache: BuildKit shows such a hit as layer downloads, without
    CACHED, when the layers are not in its store yet."""
    if pulled and step.kind == "step" and not step.log and step.error is None:
        step.cached = True


class PlainProgressParser:
    """Incremental parser of ``--progress=plain`` output."""

    def __init__(self) -> None:
        self.result = BuildProgress()
        self._by_id: dict[str, Step] = {}
        self._resuming: set[str] = set()
        self._pulled: set[str] = set()  # vertices that fetched layers from a cache

    def feed(self, line: str) -> Step | None:
        line = line.rstrip("\r\n")
        match = _PLAIN.match(line)
        if match is None:
            if line.startswith(("Sending build context", "Step ")) and not self._by_id:
                self.result.buildkit = False
            if line.strip() or self.result.trailer:
                self.result.trailer.append(line)
            found = _IMAGE.search(line)
            if found:
                self.result.image_id = found.group(1)
            return None
        self.result.buildkit = True
        vid, rest = "#" + match.group("id"), match.group("rest")
        step = self._by_id.get(vid)
        if step is None:
            step = Step(vertex=vid, name=rest, order=len(self.result.steps))
            classify(step)
            self._by_id[vid] = step
            self.result.steps.append(step)
            return step
        if rest == step.name:
            # the name is printed again when an interrupted vertex resumes ("#9 ...")
            self._resuming.discard(vid)
            return step
        self._resuming.discard(vid)
        self._status(step, rest)
        return step

    def _status(self, step: Step, rest: str) -> None:
        if rest == "CACHED":
            step.cached = True
        elif rest == "CANCELED" or rest.startswith("CANCELED "):
            step.canceled = True
        elif rest.startswith("ERROR:") or rest == "ERROR":
            step.error = rest[len("ERROR:") :].strip() or "failed"
        elif rest == "...":
            self._resuming.add(step.vertex)
        elif (done := _DONE.match(rest)) is not None:
            step.seconds = float(done.group("secs"))
            _from_imported_cache(step, step.vertex in self._pulled)
        elif _DIGEST.match(rest):
            pass  # the vertex digest, printed by older clients
        elif _LAYER_PULL.match(rest):
            self._pulled.add(step.vertex)
        else:
            log = _LOG.match(rest)
            step.log.append(log.group("text") if log else rest)
            found = _IMAGE.search(rest)
            if found:
                self.result.image_id = found.group(1)

    def feed_text(self, text: str) -> BuildProgress:
        for line in text.splitlines():
            self.feed(line)
        return self.result


def parse_plain(text: str) -> BuildProgress:
    return PlainProgressParser().feed_text(text)


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value or value.startswith("0001-01-01"):
        return None
    # Go prints RFC 3339 with up to 9 fractional digits; Python takes 6
    match = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", value)
    if match is None:
        return None
    frac = (match.group(2) or ".0")[:7]
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    try:
        return datetime.fromisoformat(match.group(1) + frac + zone)
    except ValueError:
        return None


class RawJsonProgressParser:
    """Incremental parser of buildx ``--progress=rawjson`` output (one SolveStatus a line)."""

    def __init__(self) -> None:
        self.result = BuildProgress()
        self._by_digest: dict[str, Step] = {}
        self._pulled: set[str] = set()  # vertices that fetched layers from a cache

    def feed(self, line: str) -> Step | None:
        line = line.strip()
        if not line:
            return None
        try:
            status = json.loads(line)
        except json.JSONDecodeError:
            # buildx prints the solver's final error as plain text after the stream
            self.result.trailer.append(line)
            return None
        if not isinstance(status, dict):
            return None
        self.result.buildkit = True
        touched: Step | None = None
        for item in status.get("statuses") or []:
            if _DIGEST.match(str(item.get("id", ""))) and item.get("vertex"):
                self._pulled.add(str(item["vertex"]))  # a layer fetched for that vertex
        for vertex in status.get("vertexes") or []:
            touched = self._vertex(vertex) or touched
        for log in status.get("logs") or []:
            step = self._by_digest.get(str(log.get("vertex", "")))
            if step is None:
                continue
            try:
                data = base64.b64decode(log.get("data") or "").decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                continue
            step.log.extend(data.splitlines())
            touched = step
        for item in status.get("statuses") or []:
            found = _IMAGE.search(str(item.get("id", "")) + " " + str(item.get("name", "")))
            if found:
                self.result.image_id = found.group(1)
        return touched

    def _vertex(self, vertex: dict[str, Any]) -> Step | None:
        digest = str(vertex.get("digest", ""))
        if not digest:
            return None
        step = self._by_digest.get(digest)
        if step is None:
            step = Step(
                vertex=digest, name=str(vertex.get("name", "")), order=len(self.result.steps)
            )
            classify(step)
            self._by_digest[digest] = step
            self.result.steps.append(step)
        if vertex.get("cached"):
            step.cached = True
        if vertex.get("error"):
            message = str(vertex["error"])
            if "context canceled" in message:
                step.canceled = True
            else:
                step.error = message
        started, completed = _timestamp(vertex.get("started")), _timestamp(vertex.get("completed"))
        if started is not None and completed is not None and not step.cached:
            step.seconds = round((completed - started).total_seconds(), 3)
            _from_imported_cache(step, digest in self._pulled)
        if started is not None and (step.started is None or started < step.started):
            step.started = started
            # the first status lists every vertex in no particular order: the steps follow
            # the order the solver started them, as plain progress numbers them
            self.result.steps.sort(key=_start_order)
        return step

    def feed_text(self, text: str) -> BuildProgress:
        for line in text.splitlines():
            self.feed(line)
        return self.result


def _start_order(step: Step) -> tuple[float, int]:
    return (step.started.timestamp() if step.started else math.inf), step.order


def parse_rawjson(text: str) -> BuildProgress:
    return RawJsonProgressParser().feed_text(text)


def error_summary(progress: BuildProgress, tail: int = LOG_TAIL) -> tuple[str, list[str]]:
    """The failing step (or the solver's message) and the tail of its log."""
    failed = progress.failed_step
    trailer = [t for t in progress.trailer if t.strip() and t.strip() != "------"]
    if failed is not None:
        what = failed.name
        if failed.error:
            what += f": {failed.error}"
        return what, failed.log[-tail:]
    # errors before any step ran (parse errors, missing base image) come only in the trailer
    solver = [t for t in trailer if not t.startswith(" > ")]
    message = solver[-1] if solver else "the build failed"
    return message, trailer[-tail:]
