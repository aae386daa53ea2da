"""The lock files pin every package with its hashes, agree with pyproject.toml, and are
what this environment was installed from (two installs of one commit, same packages)."""

import re
import tomllib
from importlib.metadata import distributions
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def read_lock(name: str) -> dict[str, tuple[str, str | None, list[str]]]:
    """name -> (version, marker, hashes)"""
    pins: dict[str, tuple[str, str | None, list[str]]] = {}
    current = None
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        if match := PIN.match(line):
            current = canonicalize_name(match[1])
            pins[current] = (match[2], match[3], [])
        elif "--hash=sha256:" in line and current:
            pins[current][2].append(line.split("--hash=sha256:")[1].split()[0])
        elif line.strip() and not line.lstrip().startswith("#"):
            raise AssertionError(f"{name}: a line that pins nothing: {line!r}")
    return pins


def project_requirements(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    for extra in extras:
        names += project["optional-dependencies"][extra]
    return [Requirement(r) for r in names]


def test_every_pin_is_exact_and_hashed():
    for lock in ("build.lock", "dev.lock", "pi.lock"):
        pins = read_lock(lock)
        assert pins, lock
        for name, (version, _marker, hashes) in pins.items():
            assert hashes, f"{lock}: {name}=={version} has no hash"
            assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name


def test_locks_hold_what_pyproject_asks_for():
    """A dependency added to pyproject.toml without `make lock` fails here, by name."""
    for lock, extras in (("dev.lock", ("test", "tpm")), ("pi.lock", ("pi", "tpm"))):
        pins = read_lock(lock)
        for requirement in project_requirements(*extras):
            name = canonicalize_name(requirement.name)
            assert name in pins, f"{name} is not in requirements/{lock}: run `make lock`"
            version = pins[name][0]
            assert requirement.specifier.contains(version, prereleases=True), (
                f"requirements/{lock} pins {name}=={version}, pyproject.toml asks "
                f"{requirement.specifier}: run `make lock`"
            )


def test_build_tools_agree_with_the_dev_lock():
    dev = read_lock("dev.lock")
    for name, (version, _m, _h) in read_lock("build.lock").items():
        assert dev[name][0] == version, name
    pi = read_lock("pi.lock")
    shared = set(pi) & set(dev)
    assert {n for n in shared if pi[n][0] != dev[n][0]} == set()


def test_this_environment_is_the_dev_lock():
    """What `make test` installed is exactly the lock for this platform: nothing more,
    nothing less, no other version."""
    env = default_environment()
    wanted = {
        name: version
        for name, (version, marker, _h) in read_lock("dev.lock").items()
        if marker is None or Requirement(f"x; {marker}").marker.evaluate(env)
    }
    installed = {
        canonicalize_name(d.metadata["Name"]): d.version
        for d in distributions()
        if canonicalize_name(d.metadata["Name"]) not in {"pip", "pos-terminal"}
    }
    assert installed == wanted, "the venv differs from the lock: rm .venv/.installed; make test"
