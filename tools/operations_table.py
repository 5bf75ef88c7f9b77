"""Write docs/OPERATIONS.md: every operation of the three botocore models, the provider
method that answers it (module), and its known limits. `--check` fails when the file is
stale, so a test or CI step can keep it true.

    .venv/bin/python tools/operations_table.py [--check]
"""
from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.ingestion.provider import EventsProvider            # noqa: E402
from chalicelib.resources.provider import PersonalizeProvider    # noqa: E402
from chalicelib.serving.provider import RuntimeProvider          # noqa: E402
from chalicelib.wire.gateway import method_name                  # noqa: E402
from chalicelib.wire.service_models import SERVICES, service_model  # noqa: E402

PROVIDERS = {"personalize": PersonalizeProvider, "personalize-runtime": RuntimeProvider,
             "personalize-events": EventsProvider}
OUTPUT = ROOT / "docs" / "OPERATIONS.md"

# Known differences from AWS, by operation. Kept short: the table is a map, not a manual.
LIMITS = {
    "GetPersonalizedRanking": '`context` as for GetRecommendations',
    "GetRecommendations": '`context` conditions User-Personalization models trained on '
                          'Interactions with context fields (categorical/string columns such as '
                          'DEVICE); an unknown field or value is answered as without context',
    "PutEvents": 'context fields in `properties` are kept with the event and read as that history'
                 " event's context",
    "CreateSolutionVersion": "one training per version; versions wait in CREATE PENDING until the"
                             " core scheduler gives them threads (`training.cores`); the task log"
                             " (`<data dir>/artifacts/logs/`) has a progress line at least every "
                             "10 s",
    "GetSolutionMetrics": "AWS's protocol: the version is trained without 10% of the users, whose"
                          ' oldest 90% of interactions is the input and newest 10% is scored '
                          "(USER_SEGMENTATION: each user's newest 20%); average_rewards_at_k as "
                          'well when the solution has an optimizationObjective',
    "CreateBatchInferenceJob": "batchInferenceJobMode THEME_GENERATION is refused "
                               "(no Content Generator); rankingInfluence is stored, not used",
    "CreateBatchSegmentJob": "filterArn is checked but not applied to the users",
    "CreateDatasetExportJob": "one CSV at <path><jobName>/part-00000.csv",
    "CreateDataDeletionJob": "models already trained keep serving the users' histories "
                             "until the next training, as on AWS",
    "CreateRecommender": "each domain recipe runs one of our recipes (see "
                         "chalicelib/resources/recommenders.py); its model's solution "
                         "version shows in an unfiltered ListSolutionVersions",
    "CreateSolution": 'performHPO runs optuna (maxNumberOfTrainingJobs trials, default 4); '
                      'performAutoML chooses from autoMLConfig.recipeList by its metric; '
                      'solutionConfig.optimizationObjective needs a User-Personalization or '
                      'Personalized-Ranking recipe and an itemAttribute that is a numerical, non-'
                      "nullable column of the group's Items dataset (AWS's documented "
                      'requirements; anything else is InvalidInputException)',
    "UpdateSolution": "settings stored; weekly automatic training is not scheduled",
    "GetActionRecommendations": "InvalidInputException for other recipe types, as AWS; "
                                "aws-next-best-action cannot be trained here yet",
    "CreateMetricAttribution": "stored and validated; metrics are not published to "
                               "S3/CloudWatch",
}


# Where AWS's behaviour had to be read from its documentation and samples: the rule
# followed, and where it is written.
RULES = [
    ("Lifecycles",
     "Schemas and solutions are ACTIVE as soon as they are created (AWS's DescribeSolution "
     "answers ACTIVE a second after CreateSolution, with creation and update at the same "
     "millisecond, in the user_segmentation sample's output). Dataset groups, datasets, "
     "filters, event trackers and campaigns go through CREATE PENDING (datasets took 30 s "
     "on AWS in the updating_datasets sample). A step that AWS's samples take on a parent "
     "created a moment earlier is accepted: CreateDatasetImportJob on a dataset still "
     "CREATE PENDING waits behind it (CREATE PENDING until the dataset is ACTIVE); children "
     "of a pending dataset group are accepted; PutEvents works on a new event tracker. "
     "PERSONALIZE_SETTLE_SECONDS (default 0.2) is how long the pending statuses last.",
     "API_CreateSolutionVersion, API_DescribeDataset; aws-samples/amazon-personalize-samples"),
    ("CSV files",
     "The first row must be a header naming the columns; names are matched to the schema "
     "ignoring case; every non-nullable schema field needs its column. Columns that map to "
     "no schema field are ignored and logged, and so is a column with no name (pandas' "
     "to_csv() index, which AWS's Promotions, Trending-Now and ECOMMERCE samples import).",
     "Developer guide: Preparing and importing bulk data; Formatting your input data"),
    ("GetRecommendations fields",
     "userId is required for USER_PERSONALIZATION recipes and itemId for RELATED_ITEMS "
     "ones (API reference). aws-trending-now and the VIDEO_ON_DEMAND \"Trending now\" use "
     "case need a userId only for a filter that reads CurrentUser or the user's "
     "interactions. \"Customers who viewed X also viewed\", \"Because you watched X\" and "
     "\"More like X\" need both; \"Frequently bought together\" needs a userId only for "
     "such a filter. aws-popularity-count and the \"Most popular\"/\"Best sellers\"/\"Most "
     "viewed\" use cases need a userId (their pages list no exception). Trending-Now has no "
     "batch recommendations: CreateBatchInferenceJob refuses it.",
     "API_RS_GetRecommendations; Trending-Now recipe; ECOMMERCE and VIDEO_ON_DEMAND use cases"),
    ("Legacy HRNN recipes",
     "aws-hrnn, aws-hrnn-metadata and aws-hrnn-coldstart are \"no longer available\": "
     "ListRecipes leaves them out, and DescribeRecipe and CreateSolution answer "
     "ResourceNotFoundException (\"Resource Arn ... does not exist.\", naming "
     "aws-user-personalization as their replacement), as for any recipe that does not exist.",
     "Developer guide: Legacy HRNN recipes"),
]


def rows(service: str):
    provider = PROVIDERS[service]
    for name in service_model(service).operation_names:
        method = getattr(provider, method_name(name), None)
        if method is None:
            yield name, "not implemented", "", ""
            continue
        module = inspect.getmodule(method).__name__.replace("chalicelib.", "")
        yield name, "implemented", module, LIMITS.get(name, "")


def render() -> str:
    lines = ["# Operations", "",
             "Generated by `tools/operations_table.py` from botocore's service models and the",
             "provider methods; do not edit by hand.", ""]
    for service in SERVICES:
        table = list(rows(service))
        done = sum(1 for r in table if r[1] == "implemented")
        lines += [f"## {service} ({done}/{len(table)} implemented)", "",
                  "| Operation | Status | Module | Limits |", "|---|---|---|---|"]
        lines += [f"| {n} | {s} | {f'`{m}`' if m else ''} | {l} |" for n, s, m, l in table]
        lines.append("")
    lines += ["## AWS rules followed", ""]
    for title, rule, source in RULES:
        lines += [f"- **{title}.** {rule} (Source: {source}.)", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/OPERATIONS.md is not up to date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale: run tools/operations_table.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
