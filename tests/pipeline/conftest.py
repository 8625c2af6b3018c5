"""Fixtures of the pipeline tests: a collecting queue, the local Greenhouse-shaped board, job pages."""

from tests.support.fleet import sent  # noqa: F401 (a fixture)
from tests.support.greenhouse_site import fixture_site  # noqa: F401 (a fixture)
from tests.support.pages import page_server  # noqa: F401 (a fixture)
