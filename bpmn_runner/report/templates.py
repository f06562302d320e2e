"""The Jinja2 environment of the reports (autoescape on, strict undefined): the only module that imports Jinja."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..errors import ReportError

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:;"


def _templates_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "report_base.html.j2").is_file():
            return candidate
    raise ReportError(f"report templates not found (looked in {here / 'templates'} and {here.parent / 'templates'})")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(_templates_dir())), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["csp"] = CSP
    return env


def render(template: str, **context: Any) -> str:
    """Render one template of `templates/` to a complete HTML page."""
    return _environment().get_template(template).render(**context)
