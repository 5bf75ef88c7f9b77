"""The one Gateway this process serves: providers for the three services over a Backend."""
from __future__ import annotations

from chalicelib.backend import Backend, build_backend
from chalicelib.config import Settings
from chalicelib.wire.gateway import Gateway


def build_gateway(backend: Backend) -> Gateway:
    from chalicelib.events.provider import EventsProvider
    from chalicelib.resources.provider import PersonalizeProvider
    from chalicelib.serving.provider import RuntimeProvider
    providers = {"personalize": PersonalizeProvider(backend),
                 "personalize-runtime": RuntimeProvider(backend),
                 "personalize-events": EventsProvider(backend)}
    return Gateway(providers, backend.keyring)


def gateway_from_env(**overrides) -> tuple[Gateway, Backend]:
    backend = build_backend(Settings.from_env(**overrides))
    return build_gateway(backend), backend
