"""The registry source: the distribution API, anonymous bearer tokens, layers checked
against their digests."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from jettison.image.blob import CHUNK, FileSource, Window
from jettison.image.errors import CorruptImageError, ImageError, ImageNotFoundError
from jettison.image.sources.decompress import decompress_stream
from jettison.image.sources.manifest import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    MAX_JSON,
    blob_path,
    config_diff_ids,
    int_or_none,
    manifest_parts,
    select_manifest,
)
from jettison.image.sources.model import ImageData, LayerData, Scratch
from jettison.image.tarscan import scan

_ACCEPT = ", ".join(sorted(INDEX_TYPES | MANIFEST_TYPES))


class RegistryRef(NamedTuple):
    host: str
    repository: str
    reference: str  # tag or digest

    @property
    def base(self) -> str:
        host = self.host.split(":")[0]
        secure = host not in ("localhost", "127.0.0.1", "::1", "[::1]") and not host.startswith(
            "127."
        )
        return f"{'https' if secure else 'http'}://{self.host}/v2/{self.repository}"


def parse_registry_ref(text: str) -> RegistryRef:
    for scheme in ("https://", "http://", "docker://", "registry:"):
        if text.startswith(scheme):
            text = text[len(scheme) :]
    host, _, rest = text.partition("/")
    if not rest or not ("." in host or ":" in host or host == "localhost"):
        host, rest = "registry-1.docker.io", text
        if "/" not in rest.split(":")[0].split("@")[0]:
            rest = "library/" + rest
    if "@" in rest:
        repo, _, ref = rest.partition("@")
    else:
        repo, _, ref = (
            rest.rpartition(":") if ":" in rest.rsplit("/", 1)[-1] else (rest, "", "latest")
        )
    if not repo or not ref:
        raise ImageError(f"invalid registry reference {text!r}")
    return RegistryRef(host, repo, ref)


class _Registry:
    def __init__(self, ref: RegistryRef) -> None:
        self.ref = ref
        self.token: str | None = None

    def open(self, path: str, accept: str | None = None) -> Any:
        # urllib loads only for registry sources (it is most of this module's import time)
        import urllib.error
        import urllib.request

        url = f"{self.ref.base}/{path}"
        for _attempt in range(2):
            req = urllib.request.Request(url)
            if accept:
                req.add_header("Accept", accept)
            if self.token:
                req.add_header("Authorization", f"Bearer {self.token}")
            try:
                return urllib.request.urlopen(req, timeout=60)
            except urllib.error.HTTPError as exc:
                challenge = exc.headers.get("WWW-Authenticate", "")
                if (
                    exc.code == 401
                    and challenge.lower().startswith("bearer")
                    and self.token is None
                ):
                    self.token = self._token(challenge)
                    continue
                if exc.code == 404:
                    raise ImageNotFoundError(
                        f"not found in registry: {self.ref.host}/{self.ref.repository} ({path})"
                    ) from None
                raise ImageError(f"registry answered {exc.code} for {url}") from None
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise ImageError(f"cannot reach registry {self.ref.host}: {reason}") from None
        raise ImageError(f"registry {self.ref.host} refused the anonymous token")

    def _token(self, challenge: str) -> str:
        import urllib.error
        import urllib.parse
        import urllib.request

        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", "")
        if not realm:
            raise ImageError(f"registry {self.ref.host} sent an unusable auth challenge")
        url = realm + "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=60) as resp:
                body = json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ImageError(f"cannot get a registry token: {exc}") from None
        return str(body.get("token") or body.get("access_token") or "")

    def json(self, path: str, accept: str | None = None) -> Any:
        with self.open(path, accept) as resp:
            data = resp.read(MAX_JSON + 1)
        try:
            return json.loads(data)
        except ValueError:
            raise CorruptImageError(f"registry sent invalid JSON for {path}") from None


def open_registry(
    text: str, reference: str, tmp: Scratch, platform: str | None, closers: list[Callable[[], None]]
) -> ImageData:
    ref = parse_registry_ref(text)
    reg = _Registry(ref)
    top = reg.json(f"manifests/{ref.reference}", _ACCEPT)
    chosen = None
    if isinstance(top, dict) and (top.get("mediaType") in INDEX_TYPES or "manifests" in top):
        desc, chosen = select_manifest(top, lambda d: reg.json(f"manifests/{d}", _ACCEPT), platform)
        manifest = reg.json(f"manifests/{desc['digest']}", _ACCEPT)
    else:
        manifest = top
    config, descs = manifest_parts(manifest, lambda d: reg.json(f"blobs/{d}"))
    diff_ids = config_diff_ids(config)
    layers = []
    import tempfile

    for i, d in enumerate(descs):
        digest = str(d["digest"])
        blob_path(digest)  # validates the digest before it names anything
        fd, path = tempfile.mkstemp(dir=tmp, suffix=".tar")
        with os.fdopen(fd, "wb") as out, reg.open(f"blobs/{digest}") as resp:
            hashing = _HashingReader(resp)
            head = hashing.peek(4)
            decompress_stream(hashing, head, out, digest)
            hashing.drain()
        if hashing.hexdigest() != digest.split(":", 1)[1] and digest.startswith("sha256:"):
            raise CorruptImageError(f"layer {digest} does not match its digest")
        src = FileSource(path)
        closers.append(src.close)
        window = Window(src, 0, src.size)
        layers.append(
            LayerData(
                diff_ids[i] if i < len(diff_ids) else digest,
                str(d.get("mediaType", "")),
                src.size,
                list(scan(window, digest)),
                window,
                int_or_none(d.get("size")),
            )
        )
    return ImageData(
        reference,
        "registry",
        config,
        layers,
        str((manifest.get("config") or {}).get("digest", "")),
        chosen,
    )


class _HashingReader:
    """Reads a response while hashing it, with a small peek buffer for sniffing."""

    def __init__(self, raw: Any) -> None:
        import hashlib

        self.raw = raw
        self.hash = hashlib.sha256()
        self.pending = b""

    def peek(self, n: int) -> bytes:
        while len(self.pending) < n:
            more = self.raw.read(n - len(self.pending))
            if not more:
                break
            self.hash.update(more)
            self.pending += more
        return self.pending[:n]

    def read(self, n: int = -1) -> bytes:
        if self.pending:
            cut = len(self.pending) if n is None or n < 0 else n
            out, self.pending = self.pending[:cut], self.pending[cut:]
            return out
        data: bytes = self.raw.read(n if n and n > 0 else CHUNK)
        self.hash.update(data)
        return data

    def readable(self) -> bool:
        return True

    def drain(self) -> None:
        while self.read(CHUNK):
            pass

    def hexdigest(self) -> str:
        return self.hash.hexdigest()
