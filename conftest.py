"""Root conftest: the shared fixtures of pangolin_core.testing for every test folder."""

pytest_plugins = ["pangolin_core.testing"]
