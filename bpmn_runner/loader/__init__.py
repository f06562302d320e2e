"""Loading diagrams: hardened XML, dialect extensions and the diagram interchange (DI)."""
