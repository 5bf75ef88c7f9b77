"""The personalize control plane: one method per operation, gathered from the families."""
from chalicelib.resources.batch_inference_jobs import BatchInferenceJobOperations
from chalicelib.resources.batch_segment_jobs import BatchSegmentJobOperations
from chalicelib.resources.campaigns import CampaignOperations
from chalicelib.resources.catalogue_operations import CatalogueOperations
from chalicelib.resources.data_deletion_jobs import DataDeletionJobOperations
from chalicelib.resources.dataset_export_jobs import DatasetExportJobOperations
from chalicelib.resources.dataset_groups import DatasetGroupOperations
from chalicelib.resources.datasets import DatasetOperations
from chalicelib.resources.event_trackers import EventTrackerOperations
from chalicelib.resources.filters import FilterOperations
from chalicelib.resources.import_jobs import ImportJobOperations
from chalicelib.resources.metric_attributions import MetricAttributionOperations
from chalicelib.resources.recommenders import RecommenderOperations
from chalicelib.resources.schemas import SchemaOperations
from chalicelib.resources.solution_updates import SolutionUpdateOperations
from chalicelib.resources.solutions import SolutionOperations
from chalicelib.resources.tags import TagOperations


class PersonalizeProvider(DatasetGroupOperations, SchemaOperations, DatasetOperations,
                          ImportJobOperations, SolutionOperations, CampaignOperations,
                          EventTrackerOperations, FilterOperations, CatalogueOperations,
                          TagOperations, BatchInferenceJobOperations,
                          BatchSegmentJobOperations, DatasetExportJobOperations,
                          DataDeletionJobOperations, RecommenderOperations,
                          MetricAttributionOperations, SolutionUpdateOperations):
    """Operations not implemented yet fall through to the gateway's 'not supported'."""
