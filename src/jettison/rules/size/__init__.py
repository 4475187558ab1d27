"""Size rules: bytes that end up in the final image for no benefit.

JT130-JT135 look at what the runtime image does not need: trees stored twice, wheels kept
after install, `*-dev` packages installed for their library, git kept after a
`pip install git+...`.
"""
