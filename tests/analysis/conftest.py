"""The analysis stories run on SQLite, PostgreSQL and MariaDB with the story suite's fixtures
(``dialect``, ``database_url``, ``project``; ``@pytest.mark.dialects(...)`` narrows a story)."""

from stories.conftest import (  # noqa: F401 - fixtures and hooks shared with tests/stories
    database_url,
    postgresql_story_database,
    project,
    pytest_configure,
    pytest_generate_tests,
)
