"""Errors a user can cause and fix; the CLI prints them as one line and exits 2."""


class UserError(Exception):
    """Base of every error whose message alone tells the user what to fix."""


class ConfigError(UserError, ValueError):
    """A configuration mistake (bad setting, missing file or folder)."""


class DatabaseError(UserError, RuntimeError):
    """The database cannot be reached or used."""


class JobError(UserError, RuntimeError):
    """A stage was asked to do something impossible (an unknown batch key...)."""
