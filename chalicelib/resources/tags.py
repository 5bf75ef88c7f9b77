"""Tags on any resource (kept on the resource's record as `_tags`)."""
from __future__ import annotations

from chalicelib.errors import ResourceNotFoundException, TooManyTagsException
from chalicelib.resources.base import OperationsBase
from chalicelib.records.kinds import kind_of_arn

MAX_TAGS = 50


class TagOperations(OperationsBase):
    def _tagged(self, arn: str):
        kind = kind_of_arn(arn)
        if kind is None:
            raise ResourceNotFoundException(f"Resource Arn {arn} does not exist.")
        self.registry.get(kind, arn)
        return kind

    def tag_resource(self, ctx, resourceArn, tags):
        kind = self._tagged(resourceArn)

        def add(doc):
            merged = {t["tagKey"]: t["tagValue"] for t in doc.get("_tags", [])}
            merged.update({t["tagKey"]: t["tagValue"] for t in tags})
            if len(merged) > MAX_TAGS:
                raise TooManyTagsException(f"A resource can have at most {MAX_TAGS} tags.")
            doc["_tags"] = [{"tagKey": k, "tagValue": v} for k, v in merged.items()]
        self.registry.update(kind, resourceArn, add)
        return {}

    def untag_resource(self, ctx, resourceArn, tagKeys):
        kind = self._tagged(resourceArn)

        def remove(doc):
            doc["_tags"] = [t for t in doc.get("_tags", []) if t["tagKey"] not in tagKeys]
        self.registry.update(kind, resourceArn, remove)
        return {}

    def list_tags_for_resource(self, ctx, resourceArn):
        kind = self._tagged(resourceArn)
        return {"tags": self.registry.get(kind, resourceArn).get("_tags", [])}
