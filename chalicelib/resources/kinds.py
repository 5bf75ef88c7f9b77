"""Every resource kind of the control plane, in one place."""
from chalicelib.resources.registry import Kind

DATASET_GROUP = Kind("dataset-group", "Dataset group", "datasetGroupArn")
SCHEMA = Kind("schema", "Schema", "schemaArn", synchronous=True)
DATASET = Kind("dataset", "Dataset", "datasetArn")
DATASET_IMPORT_JOB = Kind("dataset-import-job", "Dataset import job", "datasetImportJobArn")
DATASET_EXPORT_JOB = Kind("dataset-export-job", "Dataset export job", "datasetExportJobArn")
DATA_DELETION_JOB = Kind("data-deletion-job", "Data deletion job", "dataDeletionJobArn")
# AWS answers DescribeSolution with ACTIVE right after CreateSolution (creation and last
# update at the same millisecond), and its samples call CreateSolutionVersion at once.
SOLUTION = Kind("solution", "Solution", "solutionArn", synchronous=True)
SOLUTION_VERSION = Kind("solution", "Solution version", "solutionVersionArn",
                        store_kind="solution-version")
CAMPAIGN = Kind("campaign", "Campaign", "campaignArn")
EVENT_TRACKER = Kind("event-tracker", "Event tracker", "eventTrackerArn")
FILTER = Kind("filter", "Filter", "filterArn")
RECOMMENDER = Kind("recommender", "Recommender", "recommenderArn")
BATCH_INFERENCE_JOB = Kind("batch-inference-job", "Batch inference job",
                           "batchInferenceJobArn")
BATCH_SEGMENT_JOB = Kind("batch-segment-job", "Batch segment job", "batchSegmentJobArn")
METRIC_ATTRIBUTION = Kind("metric-attribution", "Metric attribution", "metricAttributionArn")

ALL = [DATASET_GROUP, SCHEMA, DATASET, DATASET_IMPORT_JOB, DATASET_EXPORT_JOB,
       DATA_DELETION_JOB, SOLUTION, SOLUTION_VERSION, CAMPAIGN, EVENT_TRACKER, FILTER,
       RECOMMENDER, BATCH_INFERENCE_JOB, BATCH_SEGMENT_JOB, METRIC_ATTRIBUTION]


def kind_of_arn(arn: str) -> Kind | None:
    """The kind an ARN names (solution versions have two path segments)."""
    from chalicelib.resources.arns import arn_type
    resource_type = arn_type(arn)
    if resource_type == "solution" and arn.count("/") == 2:
        return SOLUTION_VERSION
    return next((k for k in ALL if k.arn_type == resource_type and not k.store_kind), None)
