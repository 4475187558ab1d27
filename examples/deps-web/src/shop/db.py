"""Database engine; the driver is named only in the URL (psycopg2)."""

import os

from sqlalchemy import create_engine

URL = os.environ.get("DATABASE_URL", "postgresql+psycopg2://shop:shop@localhost:5432/shop")
engine = create_engine(URL)
