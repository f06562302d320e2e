"""Keep the modeler and the code in step: element templates, handler stubs and drift findings."""

from .drift import Finding, find_drift
from .scaffold import Scaffold, scaffold
from .templates import PLATFORMS, element_template, write_element_templates

__all__ = ["Finding", "PLATFORMS", "Scaffold", "element_template", "find_drift", "scaffold",
           "write_element_templates"]
