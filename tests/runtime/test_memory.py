"""The allocator settings a batch opts into (runtime/memory.py): applied on glibc, and never by
importing or using the library, only by the CLI's batch front door."""

from __future__ import annotations

import subprocess
import sys

from alphacut.runtime.memory import tune_allocator

PROBE = """
import sys
import alphacut.runtime.memory as memory
calls = []
memory.tune_allocator = lambda: calls.append(1) or True
{body}
print(len(calls))
"""


def _calls(body: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROBE.format(body=body)], check=True,
                          capture_output=True, text=True)
    return int(done.stdout.split()[-1])


def test_glibc_takes_the_settings_once() -> None:
    if not sys.platform.startswith("linux"):
        assert tune_allocator() is False
        return
    assert tune_allocator() is True
    assert tune_allocator() is True  # cached: set once per process


def test_the_library_never_changes_the_process_allocator() -> None:
    assert _calls("import alphacut.api, alphacut.interfaces.batch") == 0


def test_a_cli_batch_opts_in(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from helpers import PETS

    body = (f"from alphacut.interfaces.cli import main\n"
            f"main(['remove', {str(PETS[0])!r}, {str(PETS[1])!r}, '-o', {str(tmp_path)!r},"
            f" '-m', 'u2netp', '-q', '--preset', 'fast'])")
    assert _calls(body) == 1
