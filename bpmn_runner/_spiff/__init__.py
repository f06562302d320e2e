"""The only package that imports SpiffWorkflow: parser, specs, script engine, serializer and a session."""

from . import patches

patches.apply()
