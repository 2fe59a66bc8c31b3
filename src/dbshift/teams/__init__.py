"""Teams in git: migrations and schemas at any revision, CI checks, branch switching."""
