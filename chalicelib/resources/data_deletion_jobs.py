"""Data deletion jobs: the API side. The work is chalicelib.batch.deletion."""
from __future__ import annotations

from chalicelib.batch.jobs import DELETION_STATUSES, check_s3_path
from chalicelib.resources import kinds
from chalicelib.resources.base import OperationsBase


class DataDeletionJobOperations(OperationsBase):
    def create_data_deletion_job(self, ctx, jobName, datasetGroupArn, dataSource, roleArn,
                                 tags=None):
        self._parent(kinds.DATASET_GROUP, datasetGroupArn)
        check_s3_path(dataSource.get("dataLocation"), "dataSource.dataLocation")
        doc = self.registry.create(
            kinds.DATA_DELETION_JOB, ctx.arn_prefix, jobName,
            {"jobName": jobName, "datasetGroupArn": datasetGroupArn,
             "dataSource": dataSource, "roleArn": roleArn},
            settles=False, status=DELETION_STATUSES.pending, tags=tags)
        from chalicelib.batch.deletion import run_data_deletion
        self.backend.tasks.submit_batch(run_data_deletion, doc["dataDeletionJobArn"])
        return {"dataDeletionJobArn": doc["dataDeletionJobArn"]}

    def describe_data_deletion_job(self, ctx, dataDeletionJobArn):
        return {"dataDeletionJob": self.registry.get(kinds.DATA_DELETION_JOB,
                                                     dataDeletionJobArn)}

    def list_data_deletion_jobs(self, ctx, datasetGroupArn=None, nextToken=None,
                                maxResults=None):
        where = None if datasetGroupArn is None else (
            lambda d: d["datasetGroupArn"] == datasetGroupArn)
        return self._list(kinds.DATA_DELETION_JOB, ctx, "dataDeletionJobs", nextToken,
                          maxResults, where)
