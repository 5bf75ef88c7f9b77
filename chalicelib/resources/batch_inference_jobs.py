"""Batch inference jobs: the API side. The work is chalicelib.batch.inference."""
from __future__ import annotations

from functools import partial

from chalicelib.batch.inference import SEGMENT_RECIPES, run_batch_inference
from chalicelib.batch.jobs import check_s3_path
from chalicelib.errors import InvalidInputException
from chalicelib.records import kinds
from chalicelib.resources.base import OperationsBase
from chalicelib.resources.campaigns import campaign_config
from chalicelib.models import recipe_name

DEFAULT_RESULTS = 25
MAX_RESULTS = 500


def batch_job_fields(operations: OperationsBase, jobName, solutionVersionArn, jobInput,
                     jobOutput, filterArn, numResults, roleArn) -> tuple[dict, dict]:
    """What batch inference and batch segment jobs check and record alike; returns the
    record's fields and the solution version."""
    version = operations._parent(kinds.SOLUTION_VERSION, solutionVersionArn)
    operations.registry.get_active(kinds.SOLUTION_VERSION, solutionVersionArn)
    check_s3_path(jobInput["s3DataSource"]["path"], "jobInput.s3DataSource.path")
    check_s3_path(jobOutput["s3DataDestination"]["path"], "jobOutput.s3DataDestination.path")
    if filterArn is not None:
        flt = operations._parent(kinds.FILTER, filterArn)
        if flt["datasetGroupArn"] != version["datasetGroupArn"]:
            raise InvalidInputException(
                f"Filter {filterArn} belongs to another dataset group than the solution "
                "version.")
    count = DEFAULT_RESULTS if numResults is None else numResults
    if not 1 <= count <= MAX_RESULTS:
        raise InvalidInputException(f"numResults must be between 1 and {MAX_RESULTS}.")
    return {"jobName": jobName, "solutionVersionArn": solutionVersionArn,
            "filterArn": filterArn, "numResults": count, "jobInput": jobInput,
            "jobOutput": jobOutput, "roleArn": roleArn}, version


class BatchInferenceJobOperations(OperationsBase):
    def create_batch_inference_job(self, ctx, jobName, solutionVersionArn, jobInput,
                                   jobOutput, roleArn, filterArn=None, numResults=None,
                                   batchInferenceJobConfig=None, tags=None,
                                   batchInferenceJobMode=None, themeGenerationConfig=None):
        fields, version = batch_job_fields(self, jobName, solutionVersionArn, jobInput,
                                           jobOutput, filterArn, numResults, roleArn)
        if recipe_name(version["recipeArn"]) in SEGMENT_RECIPES:
            raise InvalidInputException(
                f"{version['recipeArn']} is a USER_SEGMENTATION recipe: use "
                "CreateBatchSegmentJob.")
        if recipe_name(version["recipeArn"]) == "aws-trending-now":
            # The Trending-Now recipe page: "You can't get batch recommendations with the
            # Trending-Now recipe."
            raise InvalidInputException(
                "Batch recommendations are not available for the aws-trending-now recipe; "
                "use GetRecommendations with a campaign.")
        if (batchInferenceJobMode or "BATCH_INFERENCE") == "THEME_GENERATION":
            raise InvalidInputException(
                "batchInferenceJobMode THEME_GENERATION needs the Content Generator, which "
                "is not available here.")
        # Same rules and defaults as a campaign's (members outside the shape never show).
        config = campaign_config(batchInferenceJobConfig, version["recipeArn"])
        return self._create_job(
            kinds.BATCH_INFERENCE_JOB, ctx, jobName,
            {**fields, "batchInferenceJobConfig": config,
             "batchInferenceJobMode": batchInferenceJobMode or "BATCH_INFERENCE"},
            partial(self.backend.tasks.submit_batch, run_batch_inference), tags=tags)

    def describe_batch_inference_job(self, ctx, batchInferenceJobArn):
        return {"batchInferenceJob": self.registry.get(kinds.BATCH_INFERENCE_JOB,
                                                       batchInferenceJobArn)}

    def list_batch_inference_jobs(self, ctx, solutionVersionArn=None, nextToken=None,
                                  maxResults=None):
        return self._list_in(kinds.BATCH_INFERENCE_JOB, ctx, "batchInferenceJobs", nextToken,
                             maxResults, "solutionVersionArn", solutionVersionArn)
