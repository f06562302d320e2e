"""`python -m bpmn_runner` runs the command line."""

from .cli import main

main()
