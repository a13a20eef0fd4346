"""The exceptions checks raise, named as in the real datadog_checks.base."""


class CheckException(Exception):
    """A check failed."""


class ConfigurationError(Exception):
    """A check's configuration is wrong."""
