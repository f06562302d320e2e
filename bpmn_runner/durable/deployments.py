"""Deployments: diagram files stored once per content hash, and the definitions rebuilt from what is stored."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from ..definitions import Definitions, load, load_sources
from ..loader.messages import message_catalog
from ..store import DefinitionRecord, Store
from .policy import content_hash

Source = tuple[str, bytes]


def encode_source(name: str, content: bytes) -> dict[str, str]:
    try:
        return {"name": name, "text": content.decode("utf-8"), "encoding": "utf-8"}
    except UnicodeDecodeError:
        return {"name": name, "text": content.decode("latin-1"), "encoding": "latin-1"}  # byte-preserving


def decode_source(source: dict[str, str]) -> Source:
    return source["name"], source["text"].encode(source.get("encoding") or "utf-8")


class Deployments:
    """Stores definitions and gives them back: parsed definitions are cached per thread, message catalogs (plain
    data) per process."""

    def __init__(self, store: Store, *, now: Callable[[], float]) -> None:
        self.store = store
        self._now = now
        self._local = threading.local()
        self._catalogs: dict[str, dict[str, Any]] = {}
        self._deployed: dict[int, tuple[Definitions, str]] = {}

    def _cache(self) -> dict[str, Definitions]:
        cache = getattr(self._local, "definitions", None)
        if cache is None:
            cache = self._local.definitions = {}
        return cache

    def deploy(self, paths: list[str | Path]) -> tuple[str, Definitions]:
        """Load diagram files (with the called processes beside them) and store them once per content hash."""
        definitions = load(list(paths), search_siblings=True)
        return self.deploy_definitions(definitions), definitions

    def deploy_definitions(self, definitions: Definitions) -> str:
        known = self._deployed.get(id(definitions))
        if known is not None and known[0] is definitions:
            return known[1]  # stored already by this runtime: starting many instances reads and hashes once
        contents = definitions.sources()  # the bytes the loader read and validated, not the file as it is now
        digest = content_hash(c for _, c in contents)
        catalog = message_catalog(definitions.documents)
        self.store.save_definition(DefinitionRecord(
            digest, definitions.family, definitions.executable_processes(),
            [encode_source(n, c) for n, c in contents], catalog, self._now()))
        self._cache()[digest] = definitions
        self._catalogs[digest] = catalog
        self._deployed[id(definitions)] = (definitions, digest)
        return digest

    def definitions_for(self, digest: str) -> Definitions:
        cache = self._cache()
        if digest not in cache:
            record = self.store.get_definition(digest)
            cache[digest] = load_sources([decode_source(s) for s in record.sources])
            self._catalogs[digest] = record.catalog
        return cache[digest]

    def catalog_for(self, digest: str) -> dict[str, Any]:
        if digest not in self._catalogs:
            self._catalogs[digest] = self.store.get_definition(digest).catalog
        return self._catalogs[digest]

    def sources_for(self, digest: str) -> list[Source]:
        return [decode_source(s) for s in self.store.get_definition(digest).sources]

    def known_names(self, kind: str) -> set[str]:
        """Every message (`kind="message"`) or signal name a stored process catches or starts with."""
        names: set[str] = set()
        for digest, catalog in self.store.catalogs().items():
            self._catalogs.setdefault(digest, catalog)
            if kind == "message":
                names.update(catalog.get("caught", []))
            for entry in catalog.get("starts", {}).values():
                names.update(entry.get(kind, []))
        return names
