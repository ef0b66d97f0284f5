"""Root conftest: the shared fixtures of pangolin_core.testing for every test folder, and
the cross-service tests' fixtures (`tests/cross_service_fixtures.py`: not a `tests/conftest.py`,
whose module name `tests.conftest` would clash with gateway/tests' conftest, a package)."""

pytest_plugins = ["pangolin_core.testing", "cross_service_fixtures"]
