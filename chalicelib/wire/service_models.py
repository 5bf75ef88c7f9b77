"""botocore's own models of the three Personalize services: our specification."""
from __future__ import annotations

from functools import lru_cache

import botocore.session
from botocore.model import OperationModel, ServiceModel

SERVICES = ("personalize", "personalize-runtime", "personalize-events")


@lru_cache(maxsize=None)
def service_model(name: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(name)


def operation_model(service: str, operation: str) -> OperationModel:
    return service_model(service).operation_model(operation)


def error_status(service: str, code: str) -> int:
    """The HTTP status the model gives an error shape (400 when it gives none)."""
    model = service_model(service)
    if code in model.shape_names:
        shape = model.shape_for(code)
        status = shape.metadata.get("error", {}).get("httpStatusCode")
        if status:
            return int(status)
        # The control plane's model gives no status: AWS answers 404 for a missing resource
        # to rest clients and 400 to json clients; botocore reads the code, not the status.
    return 400
