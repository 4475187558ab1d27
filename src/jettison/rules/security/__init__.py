"""Security rules: root, secrets, unpinned bases, sudo, piping downloads into shells, TLS."""
