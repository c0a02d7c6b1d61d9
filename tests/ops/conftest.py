"""Fixtures the operations tests share with other areas."""

from tests.api.conftest import api, api_factory
from tests.webhooks.conftest import start_receiver

__all__ = ["api", "api_factory", "start_receiver"]
