"""Data deletion jobs: the API side. The work is chalicelib.batch.deletion."""
from __future__ import annotations

from functools import partial

from chalicelib.batch.deletion import run_data_deletion
from chalicelib.batch.jobs import check_s3_path
from chalicelib.records import kinds
from chalicelib.resources.base import OperationsBase


class DataDeletionJobOperations(OperationsBase):
    def create_data_deletion_job(self, ctx, jobName, datasetGroupArn, dataSource, roleArn,
                                 tags=None):
        self._parent(kinds.DATASET_GROUP, datasetGroupArn)
        check_s3_path(dataSource.get("dataLocation"), "dataSource.dataLocation")
        return self._create_job(
            kinds.DATA_DELETION_JOB, ctx, jobName,
            {"jobName": jobName, "datasetGroupArn": datasetGroupArn,
             "dataSource": dataSource, "roleArn": roleArn},
            partial(self.backend.tasks.submit_batch, run_data_deletion), tags=tags)

    def describe_data_deletion_job(self, ctx, dataDeletionJobArn):
        return {"dataDeletionJob": self.registry.get(kinds.DATA_DELETION_JOB,
                                                     dataDeletionJobArn)}

    def list_data_deletion_jobs(self, ctx, datasetGroupArn=None, nextToken=None,
                                maxResults=None):
        return self._list_in(kinds.DATA_DELETION_JOB, ctx, "dataDeletionJobs", nextToken,
                             maxResults, "datasetGroupArn", datasetGroupArn)
