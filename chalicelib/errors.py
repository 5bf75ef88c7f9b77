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
    """An access key this endpoint does not know (403)."""


class InvalidSignatureException(ServiceError):
    """A signature that does not verify, or is out of date or wrongly scoped (403)."""


class IncompleteSignatureException(ServiceError):
    """An Authorization header or presigned query that lacks a part of SigV4 (403)."""


class InternalFailure(ServiceError):
    pass


class UnsupportedMediaTypeException(ServiceError):
    """A body whose Content-Type is not JSON (415)."""


class RequestTimeoutException(ServiceError):
    """A body that did not arrive in time (408); the connection is closed."""


class RequestEntityTooLargeException(ServiceError):
    """A body over the request size limit (413), refused before it is read."""


class NotImplementedException(ServiceError):
    """An operation of the model that this implementation does not serve yet."""


# Background work (imports, training, batch jobs) ends with a failureReason a user reads.
class JobFailure(Exception):
    """A job's failure whose message is written for the user (bad data, a configuration
    the job cannot run with, a model that came out unusable)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


MAX_FAILURE_REASON = 1000


def failure_reason(error: BaseException, activity: str, log_hint: str) -> str:
    """The failureReason for `error`: its own message when it was written for a user;
    otherwise one generic sentence, never Python's text (the caller logs the traceback,
    where `log_hint` says). `activity`: 'Training', 'The import', ..."""
    if isinstance(error, (ServiceError, JobFailure)):
        reason = error.message
    elif isinstance(error, MemoryError) or (isinstance(error, RuntimeError)
                                            and "allocate" in str(error).lower()):
        reason = (f"{activity} ran out of memory. Try smaller hyperparameters (for example "
                  "hidden_dimension or batch_size) or less data.")
    else:
        reason = (f"{activity} failed because of an internal error. The details are in "
                  f"{log_hint}.")
    return reason if len(reason) <= MAX_FAILURE_REASON else reason[:MAX_FAILURE_REASON - 3] + "..."
