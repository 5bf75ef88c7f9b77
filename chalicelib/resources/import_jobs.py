"""Dataset import jobs: the API side. The work itself is chalicelib.datasets.import_job."""
from __future__ import annotations

from chalicelib.errors import InvalidInputException
from chalicelib.records import kinds
from chalicelib.resources.base import OperationsBase

IMPORT_MODES = ("FULL", "INCREMENTAL")


class ImportJobOperations(OperationsBase):
    def create_dataset_import_job(self, ctx, jobName, datasetArn, dataSource, roleArn=None,
                                  tags=None, importMode=None,
                                  publishAttributionMetricsToS3=None):
        self._parent(kinds.DATASET, datasetArn)
        # A dataset created a moment ago is accepted: the job waits for it (AWS's samples
        # create the import job in the statement after create_dataset).
        self.registry.get_usable(kinds.DATASET, datasetArn)
        location = dataSource.get("dataLocation")
        if not location or not location.startswith("s3://"):
            raise InvalidInputException(
                f"dataSource.dataLocation must be an s3:// path, got {location!r}.")
        return self._create_job(
            kinds.DATASET_IMPORT_JOB, ctx, jobName,
            {"jobName": jobName, "datasetArn": datasetArn, "dataSource": dataSource,
             "roleArn": roleArn, "importMode": importMode or "FULL",
             "publishAttributionMetricsToS3": publishAttributionMetricsToS3},
            self.backend.tasks.submit_import, tags=tags)

    def describe_dataset_import_job(self, ctx, datasetImportJobArn):
        return {"datasetImportJob": self.registry.get(kinds.DATASET_IMPORT_JOB,
                                                      datasetImportJobArn)}

    def list_dataset_import_jobs(self, ctx, datasetArn=None, nextToken=None,
                                 maxResults=None):
        return self._list_in(kinds.DATASET_IMPORT_JOB, ctx, "datasetImportJobs", nextToken,
                             maxResults, "datasetArn", datasetArn)
