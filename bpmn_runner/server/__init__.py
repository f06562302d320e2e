"""`bpmn-runner serve`: the project's REST API, a Camunda 7 REST subset, and the tasklist and cockpit pages."""
