"""The one Gateway this process serves: providers for the three services over a Backend."""
from __future__ import annotations

from chalicelib.backend import Backend
from chalicelib.ingestion.provider import EventsProvider
from chalicelib.resources.provider import PersonalizeProvider
from chalicelib.serving.provider import RuntimeProvider
from chalicelib.wire.gateway import Gateway


def build_gateway(backend: Backend) -> Gateway:
    providers = {"personalize": PersonalizeProvider(backend),
                 "personalize-runtime": RuntimeProvider(backend),
                 "personalize-events": EventsProvider(backend)}
    return Gateway(providers, backend.keyring)
