"""Self-contained HTML reports: the diagram as the analyst drew it, with what happened painted on it.

Four reports, each one HTML file with inline CSS, no script, no network and a strict Content-Security-Policy:

- `render_definition_report(paths)`: the diagram(s) and a table of every flow node and flow (bindings,
  conditions, timers, messages, errors, call targets).
- `render_instance_report(paths, run)`: one run painted on the diagram (traversed, waiting, failed), where it
  waits, incidents, a timeline of element durations, data changes, messages and the final data.
- `render_heatmap_report(paths, stats)`: counts and mean/p95 durations of many runs on the diagram.
- `render_coverage_report(paths, coverage)`: which elements and flows the tests covered.

The inputs are file paths (or loaded `Document`s) and JSON-ready dicts, never a live workflow. Every report builds
its page with the one view builder (`page.open_page`), paints it (`svg_shapes.Paint`) and hands plain dicts to the
Jinja2 templates in `templates/`, rendered with autoescape on, so every piece of user text is escaped.
"""

from __future__ import annotations

from .coverage_report import render_coverage_report
from .definition import render_definition_report
from .heatmap import render_heatmap_report
from .instance import render_instance_report
from .templates import CSP

__all__ = ["CSP", "render_coverage_report", "render_definition_report", "render_heatmap_report",
           "render_instance_report"]
