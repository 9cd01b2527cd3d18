"""`teamrel.extras.require`: a missing optional dependency names the extra that installs it."""

from __future__ import annotations

import pytest

from teamrel.errors import MissingExtraError
from teamrel.extras import require


def test_an_installed_module_is_returned() -> None:
    assert require("json", "mcp").dumps([]) == "[]"


def test_a_missing_library_names_the_pip_install() -> None:
    with pytest.raises(MissingExtraError) as info:
        require("teamrel_no_such_library.client", "mcp")
    msg = info.value.message
    assert "MCP servers need the optional dependency 'teamrel_no_such_library'" in msg
    assert info.value.hint == "pip install 'teamrel[mcp]'"
    assert info.value.exit_code == 3
