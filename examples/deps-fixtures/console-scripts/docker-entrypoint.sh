#!/bin/sh
set -e
exec dotenv -f /app/.env run -- "$@"
