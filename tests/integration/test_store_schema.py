"""Store schema versions on both backends: upgrade an older store, refuse a newer one."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from teamrel.errors import FormatVersionError
from teamrel.store import SCHEMA_VERSION, Store
from teamrel.store.engine import make_engine
from teamrel.store.migrations import migrate, read_version

from .conftest import open_test_store


def test_upgrade_then_refuse_newer(store_url: str) -> None:
    engine = make_engine(store_url)
    migrate(engine, "test", target=1)
    with engine.connect() as conn:
        assert read_version(conn) == 1
        assert not inspect(conn).has_table("teamrel_rollback_marks")
    engine.dispose()

    store = open_test_store(store_url)  # upgraded in place
    assert store.schema_version() == SCHEMA_VERSION
    store.close()

    engine = make_engine(store_url)
    with engine.connect() as conn, conn.begin():
        conn.execute(text("UPDATE teamrel_meta SET value = '99' WHERE key = 'schema_version'"))
    engine.dispose()
    with pytest.raises(FormatVersionError, match="newer than this teamrel"):
        Store.connect(store_url)
    engine = make_engine(store_url)
    with engine.connect() as conn:
        assert read_version(conn) == 99  # untouched
    engine.dispose()
