"""The engine source: ``docker save`` streamed from the engine into a spool file and read
while it arrives. The engine is reached through :mod:`jettison.engine` (its HTTP API, or
the SDK for transports only the SDK speaks)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from jettison.errors import EngineUnavailableError
from jettison.image.blob import CHUNK, GrowingFile, Window
from jettison.image.errors import ImageError, ImageNotFoundError
from jettison.image.parallel import usable_cores
from jettison.image.sources.archive import read_archive
from jettison.image.sources.model import ImageData, Scratch


class EngineRequest(NamedTuple):
    """An image export already asked of the engine (see :func:`request_export`)."""

    reference: str
    source: str
    image_id: str
    pending: Any  # jettison.engine.api.PendingSave


def start_export(reference: str, source: str, target: str) -> EngineRequest | None:
    """Send the export request for engine image ``target`` now (see
    :func:`jettison.image.sources.request_export`); None for a transport only the SDK speaks."""
    from jettison.engine import prefetch

    sent = prefetch.take(target)  # asked for by the console entry point already
    if sent is not None:
        return EngineRequest(reference, source, _adopted(target, sent), sent[1])
    from jettison.engine.api import EngineAPI

    api = EngineAPI.from_env()
    if api is None:
        return None
    image_id = _engine_image_id(api, target)
    return EngineRequest(reference, source, image_id, _request_save(api, image_id))


def _adopted(name: str, sent: tuple[Any, Any]) -> str:
    """The image id, from the JSON the entry point asked for ``name`` (read without
    http.client, whose import would take 10 ms of processor from the engine preparing the
    export); the export's drain is closed when the JSON says no."""
    from jettison.engine import prefetch

    json_sock, drain = sent
    try:
        status, body = prefetch.answer(json_sock)
    except OSError as exc:
        drain.close()
        where = f"unix://{prefetch.local_socket()}"
        raise _engine_unavailable(f"{where}: {exc.strerror or exc}") from None
    try:
        info = json.loads(body)
    except ValueError:
        info = None
    if status < 400 and isinstance(info, dict):
        return str(info.get("Id") or name)
    drain.close()
    if status == 404:
        raise ImageNotFoundError(f"no such image in the engine: {name}")
    if status < 400:
        message = "the engine's answer to an image inspect is not JSON"
    elif isinstance(info, dict) and info.get("message"):
        message = str(info["message"])
    else:
        message = body.decode("utf-8", "replace").strip() or f"HTTP {status}"
    raise ImageError(f"engine error for {name}: {message}")


def open_engine(
    name: str,
    reference: str,
    tmp: Scratch,
    platform: str | None,
    closers: list[Callable[[], None]],
    requested: EngineRequest | None = None,
    prepare: Callable[[Window, bool], Any] | None = None,
    side: Callable[[ImageData], Any] | None = None,
) -> ImageData:
    """Stream ``docker save`` into a spool file and analyse it while it arrives."""
    from jettison.engine.prefetch import Drain

    if requested is not None and isinstance(requested.pending, Drain):
        data = _read_drained(
            requested.pending, name, reference, tmp, platform, closers, prepare, side
        )
        data.image_id = requested.image_id
        return data
    from jettison.engine.api import EngineAPI  # (http.client: not needed above)

    api = EngineAPI.from_env() if requested is None else None
    chunks: Iterable[bytes]
    if requested is not None:
        image_id, chunks = requested.image_id, requested.pending.chunks(CHUNK)
    elif api is not None:
        image_id = _engine_image_id(api, name)
        pending = _request_save(api, image_id)
        closers.append(pending.close)
        chunks = pending.chunks(CHUNK)
    else:  # a transport only the SDK speaks (ssh://)
        image_id, chunks = _sdk_stream(name, closers)
    spool = GrowingFile(os.path.join(tmp, "save.tar"))
    closers.append(spool.close)
    stop = threading.Event()

    def pump() -> None:
        error: BaseException | None = None
        try:
            for chunk in chunks:
                if stop.is_set():
                    break
                spool.write(chunk)
        except Exception as exc:
            error = ImageError(f"engine stopped sending {name}: {_short(exc)}")
        spool.finish(error)

    thread = threading.Thread(target=pump, name="jettison-docker-save", daemon=True)
    thread.start()

    def join() -> None:
        stop.set()
        thread.join(timeout=30)

    closers.append(join)
    data = read_archive(spool, 1 << 62, reference, tmp, platform, closers, "engine", prepare)
    # the archive's end is read: let the stream finish, so the analysis may fork safely
    thread.join(timeout=10)
    data.image_id = image_id
    return data


def _read_drained(
    drain: Any,
    name: str,
    reference: str,
    tmp: Scratch,
    platform: str | None,
    closers: list[Callable[[], None]],
    prepare: Callable[[Window, bool], Any] | None,
    side: Callable[[ImageData], Any] | None,
) -> ImageData:
    """Read the export the console entry point has been draining into its spool since it
    asked for it (:class:`jettison.engine.prefetch.Drain`)."""

    def stopped(exc: BaseException) -> BaseException:
        return ImageError(f"engine stopped sending {name}: {_short(exc)}")

    status, spool = drain.hand_over(
        lambda fd, written, done, error: GrowingFile.following(fd, written, done, error, stopped)
    )
    tmp.also_remove(spool.close)  # the unlinked spool's pages are freed with the scratch
    closers.append(drain.close)  # (an analysis that failed early stops the reading)
    if status >= 400:
        body = spool.pread(0, 1 << 16)  # (an error's answer is small: waits for its end)
        try:
            message = str(json.loads(body).get("message", ""))
        except (ValueError, AttributeError):
            message = body.decode("utf-8", "replace").strip()
        if status == 404:
            raise ImageNotFoundError(f"no such image in the engine: {name}")
        raise ImageError(f"engine error for {name}: {message or f'HTTP {status}'}")
    whole = arrives_faster_than_analysed(drain)
    if whole and not drain.join(timeout=600):  # (an error or its own timeout ends it first)
        whole = False  # still arriving: read as it comes (and no fork beside the drain)
    data = read_archive(
        spool, 1 << 62, reference, tmp, platform, closers, "engine", prepare, whole, side
    )
    # the archive's end is read: let the answer end, so the analysis may fork safely
    drain.join(timeout=10)
    return data


# an export arriving at least this fast keeps the engine on a core of its own
_FAST_BYTES_PER_SECOND = 300e6
_PROBE_SECONDS = 0.003  # how long its arrival is watched before deciding
_FEW_CORES = 4  # below this, the analysis alongside the engine and the drain competes


def arrives_faster_than_analysed(drain: Any, cores: int | None = None) -> bool:
    """Whether to let the export arrive whole before analysing it (a short answer, already
    whole, too).

    Docker 20.10 sends a save it has prepared, at 1-2 GB/s: the engine takes a core for it
    and the drain much of another. On a machine of fewer than 4 cores, an analysis running
    alongside then slows the export down by more than it saves: debian-slim's 78 MB arrived
    in 35-40 ms alone against 60-75 ms beside the analysis, and the whole inspect ended
    about 15 ms sooner when the analysis waited. Docker 26 sends as it produces, at about
    100 MB/s, and the analysis alongside uses time that would otherwise be lost.
    """
    if cores is None:
        cores = usable_cores()
    if cores >= _FEW_CORES:
        return drain.finished  # type: ignore[no-any-return]
    while not drain.finished:
        elapsed = time.monotonic() - drain.started
        if elapsed >= _PROBE_SECONDS:  # (received: bytes not yet written count too)
            return drain.received / elapsed >= _FAST_BYTES_PER_SECOND  # type: ignore[no-any-return]
        time.sleep(_PROBE_SECONDS - elapsed)
    return True


def _engine_unavailable(reason: str) -> EngineUnavailableError:
    return EngineUnavailableError(
        f"no Docker engine answers ({reason}); give an archive, OCI layout or registry "
        "reference instead"
    )


def _engine_image_id(api: Any, name: str) -> str:
    from jettison.engine.api import EngineHTTPError

    try:
        info = api.image(name)
    except EngineHTTPError as exc:
        if exc.status == 404:
            raise ImageNotFoundError(f"no such image in the engine: {name}") from None
        raise ImageError(f"engine error for {name}: {_short(exc)}") from None
    except OSError as exc:  # no socket, refused, permission denied, timeout
        raise _engine_unavailable(f"{api.describe()}: {exc.strerror or exc}") from None
    return str(info.get("Id") or name)


def _request_save(api: Any, image_id: str) -> Any:
    try:
        return api.save(image_id)
    except OSError as exc:
        raise _engine_unavailable(f"{api.describe()}: {exc.strerror or exc}") from None


def _sdk_stream(name: str, closers: list[Callable[[], None]]) -> tuple[str, Iterable[bytes]]:
    from jettison.engine.export import EngineCallFailed, NoEngine, NoSuchImage, save_stream

    try:
        return save_stream(name, CHUNK, closers)
    except NoEngine as exc:
        raise _engine_unavailable(_short(exc.original)) from None
    except NoSuchImage:
        raise ImageNotFoundError(f"no such image in the engine: {name}") from None
    except EngineCallFailed as exc:
        raise ImageError(f"engine error for {name}: {_short(exc.original)}") from None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
