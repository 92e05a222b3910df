"""Where the console's non-Python resources live.

In a source checkout ``templates/``, ``static/`` and ``migrations/`` sit at the repository
root beside the package; the built wheel maps them into the installed package. Looking in the
package first and then one level up makes both layouts work without configuration.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the directory holding resource ``name`` (templates, static or migrations)."""
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(f"kmsg-console resource directory {name!r} is missing from the install")
