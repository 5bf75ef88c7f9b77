"""ARNs as Amazon Personalize forms them: arn:aws:personalize:<region>:<account>:<type>/<name>."""
from __future__ import annotations

import re

from chalicelib.errors import ResourceNotFoundException

_ARN = re.compile(r"arn:aws:personalize:([^:]*):([^:]*):([a-z-]+)/(.+)")


def make_arn(prefix: str, resource_type: str, name: str) -> str:
    """prefix: 'arn:aws:personalize:<region>:<account>' (RequestContext.arn_prefix)."""
    return f"{prefix}:{resource_type}/{name}"


def arn_type(arn: str) -> str | None:
    match = _ARN.fullmatch(arn)
    return match.group(3) if match else None


def arn_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def require_type(arn: str, resource_type: str) -> None:
    if arn_type(arn) != resource_type:
        raise ResourceNotFoundException(f"Resource Arn {arn} does not exist.")
