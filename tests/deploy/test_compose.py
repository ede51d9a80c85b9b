"""docker-compose.yaml, Dockerfile and .env.example agree with each other and the repository.

No Docker engine runs where the tests run, so the files are read: the shared settings on
every service of our image, the sandbox behind its profile, mounts that exist, commands our
CLI accepts, no secrets, one Airflow version everywhere.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from amazon_bluecherry.cli import build_parser
from amazon_bluecherry.settings import REPO_ROOT, Settings

COMPOSE = REPO_ROOT / "docker-compose.yaml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
ENV_EXAMPLE = REPO_ROOT / ".env.example"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $${...} is
# compose's escape for a literal "$" (a shell variable in a container command), not a reference.
REFERENCE = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
SECRET_NAME = re.compile(r"PASSWORD|SECRET(?!S_DIR)|FERNET|API_KEY|TOKEN")  # AB_SECRETS_DIR is a folder
AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="module")
def shared_env(compose) -> dict[str, str]:
    return compose["x-airflow-common"]["environment"]


def _our_image_services(compose) -> dict[str, dict]:
    """Services of our Dockerfile: the Airflow ones (production target) and the sandbox parties."""
    images = {compose["x-airflow-common"]["image"], compose["x-sandbox-image"]["image"]}
    return {name: service for name, service in compose["services"].items() if service.get("image") in images}


def _default(value: str) -> str:
    """A string with ${VAR:-default} references replaced by their defaults (what an empty .env gives)."""
    return REFERENCE.sub(lambda m: m["arg"] if m["op"] in (":-", "-") else "", value)


def _mount(volume: str) -> tuple[str, str]:
    """(source, target) of a short-syntax volume, references resolved to their defaults."""
    source, target = _default(volume).split(":")[:2]
    return source, target


def _dockerignore() -> list[str]:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def _command_text(service: dict) -> str:
    command = service.get("command") or ""
    return command if isinstance(command, str) else " ".join(command)


def _cli_args(service: dict) -> list[str]:
    """The arguments after ``amazon-bluecherry`` of a service whose entrypoint is our CLI."""
    entrypoint = service.get("entrypoint") or []
    assert entrypoint[-1:] == ["amazon-bluecherry"], entrypoint
    return [_default(arg) for arg in service["command"]]


# --- services -----------------------------------------------------------------------------


def test_the_airflow_services_run_the_celery_executor(services, shared_env):
    assert {"postgres", "redis", "airflow-init", *AIRFLOW_COMMANDS} <= set(services)
    for name, command in AIRFLOW_COMMANDS.items():
        assert services[name]["command"] == command, name
    assert shared_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert shared_env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:") or \
        shared_env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:@redis:")
    assert "AIRFLOW__CORE__PARALLELISM" in shared_env


def test_every_service_of_our_image_has_the_shared_environment(compose, shared_env):
    ours = _our_image_services(compose)
    assert set(AIRFLOW_COMMANDS) | {"airflow-init", "bluecherry-emulator", "amazon-mailbox"} <= set(ours)
    for name, service in ours.items():
        environment = service.get("environment") or {}
        missing = sorted(set(shared_env) - set(environment))
        assert not missing, f"{name} lacks {missing}"
        changed = sorted(key for key in shared_env if environment[key] != shared_env[key])
        assert not changed, f"{name} overrides shared settings {changed}"


def test_every_long_running_service_has_a_healthcheck(services):
    for name, service in services.items():
        if name in ("airflow-init", "airflow-cli", "amazon-simulator"):
            continue  # one-shot runs, and a polling loop nothing waits for
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_the_worker_can_be_scaled_out(services):
    worker = services["airflow-worker"]
    # A fixed container name or a published port would collide between replicas.
    assert "container_name" not in worker
    assert "ports" not in worker


def test_depends_on_and_named_volumes_resolve(compose, services):
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for dependency in service.get("depends_on") or {}:
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes") or []:
            source, _ = _mount(volume)
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: named volume {source} is not declared"


def test_mounted_paths_exist_in_the_repository(services):
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source, _ = _mount(volume)
            if source.startswith("."):
                assert (REPO_ROOT / source).exists(), f"{name} mounts {source}, which is not in the repository"


def test_airflow_mounts_are_read_only_where_operations_edit(compose):
    mounts = {_mount(volume)[1]: volume for volume in compose["x-airflow-common"]["volumes"]}
    for target in ("/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/include", "/opt/airflow/secrets"):
        assert mounts[target].endswith(":ro"), mounts[target]
    assert _mount(mounts["/opt/airflow/include"])[0] == "./include"


def test_the_plugins_folder_hides_the_installed_package():
    # Airflow imports every .py under plugins/ by its bare file stem (airflow3-notes.md).
    ignore = REPO_ROOT / "plugins" / ".airflowignore"
    assert ignore.is_file(), "plugins/.airflowignore is missing: Airflow would import the package file by file"
    patterns = [line.strip() for line in ignore.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert any(pattern.rstrip("/") == "amazon_bluecherry" for pattern in patterns), patterns


def test_settings_point_at_the_mounted_mappings_and_the_store_database(shared_env, services):
    assert shared_env["AB_MAPPINGS_DIR"] == "/opt/airflow/include/mappings"
    url = shared_env["AB_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url
    # The store has its own database, not Airflow's.
    assert _default(url).rsplit("/", 1)[1] != services["postgres"]["environment"]["POSTGRES_DB"]
    assert "AB_HOME" in shared_env


def test_ab_settings_are_real_settings_with_the_codes_defaults(shared_env):
    for key, value in shared_env.items():
        if not key.startswith("AB_"):
            continue
        field = key.removeprefix("AB_").lower()
        assert field in Settings.model_fields, f"{key} is not a setting of amazon_bluecherry.settings"
        match = REFERENCE.fullmatch(value)
        if match and match["op"] == ":-":
            # The compose default must not silently differ from the code's default.
            validated = getattr(Settings.model_validate({field: match["arg"]}), field)
            # the field's own default: the environment of the test run does not count
            code_default = Settings.model_fields[field].get_default(call_default_factory=True)
            assert validated == code_default, f"{key}: compose default {match['arg']!r} != code default {code_default!r}"


def test_the_integration_database_is_created_by_the_mounted_init_script(services):
    postgres = services["postgres"]
    script = REPO_ROOT / "docker" / "postgres" / "init-integration-db.sh"
    assert any(volume.startswith("./docker/postgres/init-integration-db.sh:/docker-entrypoint-initdb.d/")
               for volume in postgres["volumes"])
    assert script.stat().st_mode & 0o111, "the init script must be executable"
    for key in ("AB_STORE_DB_USER", "AB_STORE_DB_NAME", "AB_STORE_DB_PASSWORD"):
        assert key in postgres["environment"]
    assert "amazon-bluecherry db upgrade" in services["airflow-init"]["command"][-1]
    build_parser().parse_args(["db", "upgrade"])


# --- sandbox ------------------------------------------------------------------------------


def test_the_sandbox_parties_are_behind_the_sandbox_profile(services):
    sandbox = {name for name, service in services.items() if "sandbox" in _command_text(service).split()}
    assert {"bluecherry-emulator", "amazon-mailbox", "amazon-simulator"} <= sandbox
    for name in sandbox:
        assert services[name].get("profiles") == ["sandbox"], name
    for name, service in services.items():
        if name in sandbox:
            continue
        assert "sandbox" not in (service.get("profiles") or []), name
        assert not set(service.get("depends_on") or {}) & sandbox, f"{name} must not need the sandbox"


def test_sandbox_commands_are_accepted_by_our_cli(services):
    parser = build_parser()
    emulator = parser.parse_args(_cli_args(services["bluecherry-emulator"]))
    assert (emulator.host, emulator.port, str(emulator.db)) == ("0.0.0.0", 8000, "/data/bluecherry.sqlite")
    mailbox = parser.parse_args(_cli_args(services["amazon-mailbox"]))
    assert (mailbox.host, mailbox.port, mailbox.root) == ("0.0.0.0", 2222, "/data/mailbox")
    # The simulator's loop works on the folders the mailbox serves (the same named volume).
    loop = re.search(r"amazon-bluecherry (.+?) \|\|", _command_text(services["amazon-simulator"]))
    amazon = parser.parse_args(shlex.split(loop[1]))
    assert (amazon.amazon_command, amazon.mailbox_root) == ("process-uploads", mailbox.root)
    volume_at = {service: {_mount(v)[1]: _mount(v)[0] for v in services[service]["volumes"]}
                 for service in ("amazon-mailbox", "amazon-simulator")}
    assert volume_at["amazon-simulator"][amazon.mailbox_root] == volume_at["amazon-mailbox"][mailbox.root]
    assert amazon.state in volume_at["amazon-simulator"], "Amazon's state must outlive the container"


def test_the_sandbox_mailbox_keys_land_where_the_workers_read_them(compose, services):
    secrets = next(_mount(v)[0] for v in compose["x-airflow-common"]["volumes"] if _mount(v)[1] == "/opt/airflow/secrets")
    keys = next(_mount(v)[0] for v in services["amazon-mailbox"]["volumes"] if _mount(v)[1] == "/data/mailbox/keys")
    assert keys == f"{secrets}/sandbox-mailbox"
    assert (REPO_ROOT / keys / ".gitignore").is_file(), "the generated keys must stay out of git"
    example = ENV_EXAMPLE.read_text()
    assert "/opt/airflow/secrets/sandbox-mailbox/edi-download_ed25519" in example
    assert "/opt/airflow/secrets/sandbox-mailbox/edi-upload_ed25519" in example


# --- secrets ------------------------------------------------------------------------------


def test_compose_holds_no_literal_secrets(compose):
    for text in _strings(compose):
        # Credentials inside URLs only as required references (${VAR:?...}).
        resolved = REFERENCE.sub(lambda m: "<required>" if m["op"] in (":?", "?") else (m["arg"] or ""), text)
        for credentials in re.findall(r"://[^/@\s]*:([^@/\s]+)@", resolved):
            assert credentials == "<required>", f"literal credential in {text!r}"
        for reference in REFERENCE.finditer(text):
            if SECRET_NAME.search(reference["name"]) and reference["op"] in (":-", "-"):
                assert "change-me" in reference["arg"], f"{reference['name']} defaults to a real-looking secret"
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key) or key.startswith("AIRFLOW_CONN_"):
                assert REFERENCE.fullmatch(str(value)), f"{name}: {key} must be a ${{VAR}} reference"


def test_env_example_has_placeholders_only():
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert not re.search(r"/(home|Users|root|work)/", text), "machine-specific path in .env.example"
    for line in text.splitlines():
        name, _, value = line.lstrip("# ").partition("=")
        if not value or " " in name:
            continue
        if SECRET_NAME.search(name):
            assert "change-me" in value, f"{name} must be a change-me placeholder"
        if name.startswith("AIRFLOW_CONN_"):
            assert '"password"' not in value or '"password": "change-me' in value, name
            assert '"host_key"' not in value or '"host_key": "ssh-ed25519 change-me' in value, name
    assert ".env" in (REPO_ROOT / ".gitignore").read_text().split()
    assert ".env" in _dockerignore()


def test_every_variable_compose_reads_is_documented_in_env_example(compose):
    documented = set(re.findall(r"^#?\s*([A-Z_][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    referenced = {match["name"] for text in _strings(compose) for match in REFERENCE.finditer(text)}
    assert referenced - documented == set(), "document these in .env.example"


# --- image --------------------------------------------------------------------------------


def _pinned_airflow() -> tuple[str, str, str]:
    """(base image Airflow version, base image Python version, pyproject's specifier)."""
    base = re.search(r"^FROM\s+apache/airflow:(\S+)-python(\d+\.\d+)(?:\s+AS\s+\S+)?\s*$", DOCKERFILE.read_text(), flags=re.MULTILINE)
    assert base, "Dockerfile must start FROM apache/airflow:<version>-python<x.y>"
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    requirement = next(dep for dep in project["dependencies"] if re.match(r"apache-airflow\s*[<>=!~]", dep))
    return base[1], base[2], requirement.removeprefix("apache-airflow")


def test_the_base_image_matches_the_pinned_airflow_and_python():
    version, python, specifier = _pinned_airflow()
    assert Version(version) in SpecifierSet(specifier), f"apache/airflow:{version} vs pyproject {specifier}"
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert Version(python) in SpecifierSet(project["requires-python"])


def test_the_base_image_matches_the_lock():
    lock = REPO_ROOT / "requirements.lock"
    if not lock.is_file():
        pytest.skip("requirements.lock not generated yet (make lock)")
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", lock.read_text(), flags=re.MULTILINE))
    version, _, _ = _pinned_airflow()
    assert pins.get("apache-airflow") == version, f"lock pins apache-airflow {pins.get('apache-airflow')}"
    assert "amazon-bluecherry" not in pins, "the lock must not pin our own package (installed with --no-deps)"


def test_the_dockerfile_copies_what_the_package_build_needs():
    copied = []
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY "):
            parts = [part for part in shlex.split(line)[1:] if not part.startswith("--")]
            copied += parts[:-1]
    assert {"requirements.lock", "pyproject.toml", "plugins/amazon_bluecherry", "sandbox"} <= set(copied)
    for source in copied:
        if any(char in source for char in "*?[") or source == "requirements.lock":
            continue  # optional files, and the lock the lead generates (test above)
        assert (REPO_ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the repository"
    ignored = _dockerignore()
    for needed in copied:
        assert needed not in ignored, f".dockerignore hides {needed}"
    assert ".venv" in ignored and "docker/secrets" in ignored


def test_the_image_runs_the_package_installed_not_the_plugins_copy():
    text = DOCKERFILE.read_text()
    assert re.search(r"pip install[^\n]*-r requirements\.lock", text)
    assert re.search(r"pip install[^\n]*--no-deps[^\n]*-e \.", text)
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in text, "pip must not move Airflow away from the base image"
    assert Path(REPO_ROOT / "plugins" / "amazon_bluecherry" / "__init__.py").is_file()


def test_deploy_guide_only_names_commands_the_cli_has():
    guide = (REPO_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8").replace("\\\n", " ")
    inline = re.findall(r"`(amazon-bluecherry [^`]+)`", guide)
    blocks = [line.strip() for line in guide.splitlines()
              if line.startswith("    ") and "amazon-bluecherry " in line and "python -c" not in line]
    parser = build_parser()
    for command in inline + blocks:
        marker = "amazon-simulator" if "amazon-simulator" in command else "amazon-bluecherry"
        words = shlex.split(re.sub(r"<[^>]*>", "1", command.split(marker, 1)[1]))  # <placeholder>: one word
        parser.parse_args(words)  # exits (fails the test) on a command the CLI does not have
    assert len(inline + blocks) >= 3
