"""requests is imported; charset_normalizer is imported but only installed through requests."""

import charset_normalizer
import requests


def fetch(url: str) -> str:
    body = requests.get(url, timeout=5).content
    return str(charset_normalizer.from_bytes(body).best())
