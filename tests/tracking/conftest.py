"""Fixtures of the tracking tests: the digest receivers, the local Greenhouse-shaped board, and
private hosts refused (a digest target on a private address is then not contacted)."""

from __future__ import annotations

import pytest

from tests.support.greenhouse_site import fixture_site  # noqa: F401 (a fixture)
from tests.support.receivers import counting_listener, smtp_server, webhook  # noqa: F401 (fixtures)


@pytest.fixture
def private_hosts_refused(settings) -> None:
    settings(CRAWLER_ALLOW_PRIVATE_HOSTS=0)
