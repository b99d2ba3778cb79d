"""ServerSettings and ``alphacut serve`` flags (no server started)."""

from __future__ import annotations

import pytest

from alphacut.errors import InvalidOption, UnknownModel
from alphacut.interfaces.cli import build_parser
from alphacut.interfaces.server.run import settings_from_args
from alphacut.interfaces.server.settings import MIB, ServerSettings


def test_defaults_are_safe() -> None:
    settings = ServerSettings()
    assert settings.host == "127.0.0.1"
    assert settings.concurrency == 1
    assert settings.cors_origins == ()
    assert settings.max_upload_bytes > 0 and settings.max_pixels > 0 and settings.timeout > 0


def test_flags_become_settings() -> None:
    args = build_parser().parse_args([
        "serve", "--port", "9001", "-m", "u2netp", "--models", "u2netp, u2net",
        "--concurrency", "2", "--queue", "3", "--max-upload-mb", "1.5", "--max-pixels", "1000",
        "--timeout", "7", "--threads", "1", "--cors", "https://a.example"])
    settings = settings_from_args(args)
    assert settings.port == 9001 and settings.model == "u2netp"
    assert settings.models == ("u2netp", "u2net")
    assert (settings.concurrency, settings.queue, settings.timeout) == (2, 3, 7.0)
    assert settings.max_upload_bytes == int(1.5 * MIB) and settings.max_pixels == 1000
    assert settings.threads == 1 and settings.cors_origins == ("https://a.example",)


def test_unset_flags_keep_defaults() -> None:
    settings = settings_from_args(build_parser().parse_args(["serve"]))
    assert settings == ServerSettings()


def test_resolved_models_start_with_the_default() -> None:
    settings = ServerSettings(model="u2net", models=("u2netp",)).resolved()
    assert settings.models == ("u2net", "u2netp")


@pytest.mark.parametrize("bad", [{"concurrency": 0}, {"queue": -1}, {"timeout": 0},
                                 {"max_upload_bytes": 0}, {"threads": 0}])
def test_bad_settings_are_refused(bad) -> None:
    with pytest.raises(InvalidOption):
        ServerSettings(**bad)


def test_unknown_model_is_refused() -> None:
    with pytest.raises(UnknownModel):
        ServerSettings(models=("no-such-model",))
