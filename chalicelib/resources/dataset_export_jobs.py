"""Dataset export jobs: the API side. The work is chalicelib.batch.export."""
from __future__ import annotations

from functools import partial

from chalicelib.batch.export import run_dataset_export
from chalicelib.batch.jobs import check_s3_path
from chalicelib.records import kinds
from chalicelib.resources.base import OperationsBase

DEFAULT_INGESTION_MODE = "PUT"   # AWS's default


class DatasetExportJobOperations(OperationsBase):
    def create_dataset_export_job(self, ctx, jobName, datasetArn, roleArn, jobOutput,
                                  ingestionMode=None, tags=None):
        self._parent(kinds.DATASET, datasetArn)
        self.registry.get_active(kinds.DATASET, datasetArn)
        check_s3_path(jobOutput["s3DataDestination"]["path"],
                      "jobOutput.s3DataDestination.path")
        return self._create_job(
            kinds.DATASET_EXPORT_JOB, ctx, jobName,
            {"jobName": jobName, "datasetArn": datasetArn, "roleArn": roleArn,
             "jobOutput": jobOutput, "ingestionMode": ingestionMode or DEFAULT_INGESTION_MODE},
            partial(self.backend.tasks.submit_batch, run_dataset_export), tags=tags)

    def describe_dataset_export_job(self, ctx, datasetExportJobArn):
        return {"datasetExportJob": self.registry.get(kinds.DATASET_EXPORT_JOB,
                                                      datasetExportJobArn)}

    def list_dataset_export_jobs(self, ctx, datasetArn=None, nextToken=None,
                                 maxResults=None):
        return self._list_in(kinds.DATASET_EXPORT_JOB, ctx, "datasetExportJobs", nextToken,
                             maxResults, "datasetArn", datasetArn)
