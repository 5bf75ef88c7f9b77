"""Every member the model allows reaches a provider method that accepts it: a member the
method does not name would be a TypeError, i.e. a 500 (CreateSolution's
performIncrementalUpdate was one)."""
import inspect

from chalicelib.api import build_gateway
from chalicelib.backend import build_backend
from chalicelib.config import Settings
from chalicelib.wire.gateway import method_name
from chalicelib.wire.service_models import SERVICES, service_model


def test_provider_methods_accept_every_input_member(tmp_path):
    gateway = build_gateway(build_backend(Settings(data_dir=tmp_path)))
    missing = []
    for service in SERVICES:
        model = service_model(service)
        for name in model.operation_names:
            handler = getattr(gateway.providers[service], method_name(name), None)
            operation = model.operation_model(name)
            if handler is None or operation.input_shape is None:
                continue
            params = inspect.signature(handler).parameters
            if any(p.kind == p.VAR_KEYWORD for p in params.values()):
                continue
            extra = set(operation.input_shape.members) - set(params)
            if extra:
                missing.append(f"{service}.{name}: {sorted(extra)}")
    assert not missing, missing
