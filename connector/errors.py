"""Errors the connector reports to people: one clear line each, never a traceback."""


class ConnectorError(Exception):
    """An error with a message fit to show as is (no secrets, no health data)."""

    exit_code = 1


class ConfigError(ConnectorError):
    """A setting or the config file is invalid."""

    exit_code = 2


class NotFoundError(ConnectorError):
    """A referenced record does not exist."""


class ConflictError(ConnectorError):
    """The request conflicts with stored state (a duplicate, a reused key)."""


class InputError(ConnectorError):
    """Bad input from a person or a client; nothing was changed."""

    exit_code = 2
