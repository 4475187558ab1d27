"""Database drivers that are only named in URLs."""

import os

from sqlalchemy import create_engine

ORDERS = create_engine("mysql+pymysql://shop:shop@mysql:3306/orders")
LEDGER = create_engine(os.environ.get("LEDGER_URL", "postgresql+pg8000://u:p@pg/ledger"))
EVENTS = create_engine("cockroachdb://root@crdb:26257/events")
