"""Batch segment jobs (users per item for the item-affinity recipes): the API side.
The work is chalicelib.batch.inference.run_batch_segment."""
from __future__ import annotations

from functools import partial

from chalicelib.batch.inference import SEGMENT_RECIPES, run_batch_segment
from chalicelib.errors import InvalidInputException
from chalicelib.records import kinds
from chalicelib.resources.base import OperationsBase
from chalicelib.resources.batch_inference_jobs import batch_job_fields
from chalicelib.models import recipe_name


class BatchSegmentJobOperations(OperationsBase):
    def create_batch_segment_job(self, ctx, jobName, solutionVersionArn, jobInput,
                                 jobOutput, roleArn, filterArn=None, numResults=None,
                                 tags=None):
        fields, version = batch_job_fields(self, jobName, solutionVersionArn, jobInput,
                                           jobOutput, filterArn, numResults, roleArn)
        if recipe_name(version["recipeArn"]) not in SEGMENT_RECIPES:
            raise InvalidInputException(
                f"Batch segment jobs need a solution version of a USER_SEGMENTATION recipe "
                f"({', '.join(SEGMENT_RECIPES)}), not {version['recipeArn']}.")
        return self._create_job(kinds.BATCH_SEGMENT_JOB, ctx, jobName, fields,
                                partial(self.backend.tasks.submit_batch, run_batch_segment),
                                tags=tags)

    def describe_batch_segment_job(self, ctx, batchSegmentJobArn):
        return {"batchSegmentJob": self.registry.get(kinds.BATCH_SEGMENT_JOB,
                                                     batchSegmentJobArn)}

    def list_batch_segment_jobs(self, ctx, solutionVersionArn=None, nextToken=None,
                                maxResults=None):
        return self._list_in(kinds.BATCH_SEGMENT_JOB, ctx, "batchSegmentJobs", nextToken,
                             maxResults, "solutionVersionArn", solutionVersionArn)
