"""Domain exceptions, named exactly as Amazon Personalize names them.

Domain code raises these with a message; the wire layer turns the class name into the
error code and looks the HTTP status up in the service model. Nothing here knows HTTP.
"""


class ServiceError(Exception):
    """Base of every error a client may see. `code` is the AWS exception name."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> str:
        return type(self).__name__


class InvalidInputException(ServiceError):
    pass


class ResourceNotFoundException(ServiceError):
    pass


class ResourceAlreadyExistsException(ServiceError):
    pass


class ResourceInUseException(ServiceError):
    pass


class LimitExceededException(ServiceError):
    pass


class InvalidNextTokenException(ServiceError):
    pass


class TooManyTagsException(ServiceError):
    pass


class TooManyTagKeysException(ServiceError):
    pass


# Protocol-level errors that are not in the Personalize models but that AWS returns.
class UnknownOperationException(ServiceError):
    pass


class SerializationException(ServiceError):
    pass


class MissingAuthenticationTokenException(ServiceError):
    pass


class UnrecognizedClientException(ServiceError):
    pass


class InternalFailure(ServiceError):
    pass


class UnsupportedMediaTypeException(ServiceError):
    """A body whose Content-Type is not JSON (415)."""


class RequestEntityTooLargeException(ServiceError):
    """A body over the request size limit (413), refused before it is read."""


class NotImplementedException(ServiceError):
    """An operation of the model that this implementation does not serve yet."""
