"""Every resource kind of the control plane, and the lifecycle each follows, in one place."""
from chalicelib.records.arns import arn_type
from chalicelib.records.lifecycle import (DATA_DELETION, DATASET_IMPORT, JOB,
                                          RECOMMENDER_START_STOP, SETTLING, SYNCHRONOUS,
                                          TRAINING)
from chalicelib.records.registry import Kind

DATASET_GROUP = Kind("dataset-group", "Dataset group", "datasetGroupArn", lifecycle=SETTLING)
SCHEMA = Kind("schema", "Schema", "schemaArn", lifecycle=SYNCHRONOUS)
DATASET = Kind("dataset", "Dataset", "datasetArn", lifecycle=SETTLING)
DATASET_IMPORT_JOB = Kind("dataset-import-job", "Dataset import job", "datasetImportJobArn",
                          lifecycle=DATASET_IMPORT)
DATASET_EXPORT_JOB = Kind("dataset-export-job", "Dataset export job", "datasetExportJobArn",
                          lifecycle=JOB)
DATA_DELETION_JOB = Kind("data-deletion-job", "Data deletion job", "dataDeletionJobArn",
                         lifecycle=DATA_DELETION)
# AWS answers DescribeSolution with ACTIVE right after CreateSolution (creation and last
# update at the same millisecond), and its samples call CreateSolutionVersion at once.
SOLUTION = Kind("solution", "Solution", "solutionArn", lifecycle=SYNCHRONOUS)
SOLUTION_VERSION = Kind("solution", "Solution version", "solutionVersionArn",
                        store_kind="solution-version", lifecycle=TRAINING)
CAMPAIGN = Kind("campaign", "Campaign", "campaignArn", lifecycle=SETTLING)
EVENT_TRACKER = Kind("event-tracker", "Event tracker", "eventTrackerArn", lifecycle=SETTLING)
FILTER = Kind("filter", "Filter", "filterArn", lifecycle=SETTLING)
# Created as its model trains (chalicelib/records/versions.py), then Start/Stop by time.
RECOMMENDER = Kind("recommender", "Recommender", "recommenderArn",
                   lifecycle=RECOMMENDER_START_STOP)
BATCH_INFERENCE_JOB = Kind("batch-inference-job", "Batch inference job",
                           "batchInferenceJobArn", lifecycle=JOB)
BATCH_SEGMENT_JOB = Kind("batch-segment-job", "Batch segment job", "batchSegmentJobArn",
                         lifecycle=JOB)
METRIC_ATTRIBUTION = Kind("metric-attribution", "Metric attribution", "metricAttributionArn",
                          lifecycle=SETTLING)

ALL = [DATASET_GROUP, SCHEMA, DATASET, DATASET_IMPORT_JOB, DATASET_EXPORT_JOB,
       DATA_DELETION_JOB, SOLUTION, SOLUTION_VERSION, CAMPAIGN, EVENT_TRACKER, FILTER,
       RECOMMENDER, BATCH_INFERENCE_JOB, BATCH_SEGMENT_JOB, METRIC_ATTRIBUTION]


def kind_of_arn(arn: str) -> Kind | None:
    """The kind an ARN names (solution versions have two path segments)."""
    resource_type = arn_type(arn)
    if resource_type == "solution" and arn.count("/") == 2:
        return SOLUTION_VERSION
    return next((k for k in ALL if k.arn_type == resource_type and not k.store_kind), None)
