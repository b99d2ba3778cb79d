"""Where the registries are: PyPI index, npm registry and Hugging Face endpoint, found the way
pip and npm find them (our env var, their env vars, their config files, their defaults)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEFAULT_PYPI_INDEX = "https://pypi.org/simple"
DEFAULT_NPM_REGISTRY = "https://registry.npmjs.org/"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"


def pypi_index_url() -> str:
    """Simple-index base: ALPHACUT_PYPI_INDEX, PIP_INDEX_URL, pip's config, else pip's default."""
    for var in ("ALPHACUT_PYPI_INDEX", "PIP_INDEX_URL"):
        value = os.environ.get(var, "").strip()
        if value:
            return value
    return _pip_config_index_url() or DEFAULT_PYPI_INDEX


def npm_registry_url(package: str = "") -> str:
    """npm registry base: ALPHACUT_NPM_REGISTRY, npm's env/~/.npmrc config, else npm's default."""
    for var in ("ALPHACUT_NPM_REGISTRY", "NPM_CONFIG_REGISTRY", "npm_config_registry"):
        value = os.environ.get(var, "").strip()
        if value:
            return value
    npmrc = _read_npmrc()
    scope_key = f"{package.split('/')[0]}:registry"
    if package.startswith("@") and scope_key in npmrc:
        return npmrc[scope_key]
    return npmrc.get("registry") or DEFAULT_NPM_REGISTRY


def hf_endpoint() -> str:
    """Hugging Face hub base: ALPHACUT_HF_ENDPOINT, HF_ENDPOINT, else huggingface.co."""
    return (os.environ.get("ALPHACUT_HF_ENDPOINT") or os.environ.get("HF_ENDPOINT")
            or DEFAULT_HF_ENDPOINT)


def _pip_config_files() -> list[Path]:
    """pip's config files, lowest priority first (as pip merges them)."""
    env_file = os.environ.get("PIP_CONFIG_FILE", "")
    if env_file == os.devnull:
        return []
    import platformdirs

    conf_name = "pip.ini" if os.name == "nt" else "pip.conf"
    xdg_dirs = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    files = [Path(d) / "pip" / "pip.conf" for d in reversed(xdg_dirs.split(os.pathsep)) if d]
    files.append(Path("/etc/pip.conf"))
    files.append(Path.home() / ".pip" / "pip.conf")
    user_dir = Path(platformdirs.user_config_dir("pip", appauthor=False, roaming=True))
    files.append(user_dir / conf_name)
    files.append(Path(sys.prefix) / conf_name)
    if env_file:
        files.append(Path(env_file))
    return list(dict.fromkeys(files))


def _pip_config_index_url() -> str | None:
    """``index-url`` from pip's config files ([install] beats [global], later files win)."""
    import configparser

    found: dict[str, str] = {}
    for path in _pip_config_files():
        parser = configparser.RawConfigParser()
        try:
            if not parser.read(path, encoding="utf-8"):
                continue
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in ("global", "install"):
            if parser.has_section(section):
                for key, value in parser.items(section):
                    if key.replace("_", "-") == "index-url" and value.strip():
                        found[section] = value.strip()
    return found.get("install") or found.get("global")


def _read_npmrc() -> dict[str, str]:
    """``key=value`` pairs of the user's ``.npmrc`` (comments and quotes stripped)."""
    names = ("NPM_CONFIG_USERCONFIG", "npm_config_userconfig")  # npm sets the lowercase one
    path = next((os.environ[n] for n in names if os.environ.get(n)), "")
    npmrc = Path(path) if path else Path.home() / ".npmrc"
    try:
        lines = npmrc.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    values: dict[str, str] = {}
    for line in lines:
        line = line.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        values[key] = value.strip("\"'")
    return values
