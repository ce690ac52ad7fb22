"""The register's fixtures (cadastral areas, an accepted registration case) for the certificate tests."""

from tests.registry.conftest import accepted, areas  # noqa: F401  (fixtures)
