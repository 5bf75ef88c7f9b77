"""AWS's recipe samples, call for call (aws-samples/amazon-personalize-samples,
next_steps/core_use_cases): personalized_ranking, related_items (SIMS; aws-similar-items
beside SIMS), trending_now, metadata/item-text-unstructured-metadata. Only endpoint_url
differs; data is MovieLens 100K cut to 30 users."""
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.api.builders import code
from tests.api.samples import (campaign_done, group_done, import_done, import_job, item_ids,
                               movies, ratings, schema, to_csv, upload, version_done,
                               wait_until)

RECIPES = "arn:aws:personalize:::recipe/"
USER_ITEM_TIME = [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                  {"name": "TIMESTAMP", "type": "long"}]


def interactions_group(personalize, s3, name: str, fields, header, rows, index=False) -> str:
    """The samples' opening: schema, dataset group (waited for), dataset, upload, and the
    import job created without waiting for the dataset; returns the dataset group."""
    schema_arn = personalize.create_schema(name=f"{name}-interactions",
                                           schema=schema("Interactions", fields))["schemaArn"]
    group = personalize.create_dataset_group(name=name)["datasetGroupArn"]
    group_done(personalize, group)
    dataset = personalize.create_dataset(name=f"{name}-interactions", datasetType="INTERACTIONS",
                                         datasetGroupArn=group, schemaArn=schema_arn)["datasetArn"]
    location = upload(s3, f"samples-{name}", "interactions.csv", to_csv(header, rows, index))
    import_done(personalize, import_job(personalize, f"{name}-import", dataset, location))
    return group


def solution_version(personalize, group: str, name: str, recipe: str, **options) -> str:
    """create_solution, then create_solution_version in the next statement."""
    solution = personalize.create_solution(name=name, datasetGroupArn=group,
                                           recipeArn=RECIPES + recipe, **options)["solutionArn"]
    return personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]


def campaign(personalize, name: str, version: str, **options) -> str:
    arn = personalize.create_campaign(name=name, solutionVersionArn=version,
                                      minProvisionedTPS=1, **options)["campaignArn"]
    campaign_done(personalize, arn)
    return arn


def test_personalized_ranking(personalize, runtime, s3):
    rows = [(u, i, t) for u, i, _, t in ratings()]
    group = interactions_group(personalize, s3, "personalize-ranking", USER_ITEM_TIME,
                               ["USER_ID", "ITEM_ID", "TIMESTAMP"], rows)
    version = solution_version(personalize, group, "personalize-ranking",
                               "aws-personalized-ranking")
    version_done(personalize, version)
    rerank = campaign(personalize, "personalize-ranking-campaign", version)
    candidates = sorted({i for _, i, _ in rows}, key=int)[:25]
    ranked = runtime.get_personalized_ranking(campaignArn=rerank, userId="3",
                                              inputList=candidates)["personalizedRanking"]
    assert sorted(entry["itemId"] for entry in ranked) == sorted(candidates)
    # A ranking campaign does not answer GetRecommendations, as on AWS.
    with pytest.raises(ClientError) as refused:
        runtime.get_recommendations(campaignArn=rerank, userId="3")
    assert code(refused.value) == "InvalidInputException"


def test_sims(personalize, runtime, s3):
    rows = [(u, i, t) for u, i, _, t in ratings()]
    group = interactions_group(personalize, s3, "sims-demo", USER_ITEM_TIME,
                               ["USER_ID", "ITEM_ID", "TIMESTAMP"], rows)
    assert RECIPES + "aws-sims" in {r["recipeArn"] for r in personalize.list_recipes()["recipes"]}
    version = solution_version(personalize, group, "DEMO-sims-solution", "aws-sims")
    version_done(personalize, version)
    assert personalize.get_solution_metrics(solutionVersionArn=version)["metrics"]
    sims = campaign(personalize, "DEMO-sims-campaign", version)
    for item in ("5", "2"):
        related = item_ids(runtime.get_recommendations(campaignArn=sims, itemId=item))
        assert related and item not in related
    # RELATED_ITEMS needs an itemId.
    with pytest.raises(ClientError) as refused:
        runtime.get_recommendations(campaignArn=sims, userId="3")
    assert code(refused.value) == "InvalidInputException"


def test_similar_items_beside_sims_with_text_metadata(personalize, runtime, s3):
    """personalize_aws_similar_items_example: Interactions with EVENT_VALUE/EVENT_TYPE, then
    an Items dataset (BRAND, PRICE, textual DESCRIPTION) created and imported at once; SIMS
    and aws-similar-items trained side by side, GetRecommendations(itemId, numResults=10)."""
    rows = [(u, i, t, float(r), "rating") for u, i, r, t in ratings()]
    group = interactions_group(
        personalize, s3, "amazon-pantry", USER_ITEM_TIME + [
            {"name": "EVENT_VALUE", "type": "float"}, {"name": "EVENT_TYPE", "type": "string"}],
        ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_VALUE", "EVENT_TYPE"], rows)
    items_schema = personalize.create_schema(name="amazon-pantry-items-schema", schema=schema(
        "Items", [{"name": "ITEM_ID", "type": "string"},
                  {"name": "BRAND", "type": ["null", "string"], "categorical": True},
                  {"name": "PRICE", "type": ["null", "float"]},
                  {"name": "DESCRIPTION", "type": ["null", "string"], "textual": True}]))
    items_dataset = personalize.create_dataset(
        name="amazon-pantry-items", datasetType="ITEMS", datasetGroupArn=group,
        schemaArn=items_schema["schemaArn"])["datasetArn"]
    catalogue = [(m["ITEM_ID"], m["GENRES"].split("|")[0], f"{int(m['ITEM_ID']) % 40 + 0.99:.2f}",
                  f"{m['TITLE']}: a {m['GENRES'].replace('|', ' and ')} film.")
                 for m in movies()]
    location = upload(s3, "samples-amazon-pantry", "items.csv",
                      to_csv(["ITEM_ID", "BRAND", "PRICE", "DESCRIPTION"], catalogue, index=False))
    import_done(personalize, import_job(personalize, "amazon-pantry-items-import",
                                        items_dataset, location))
    versions = {recipe: solution_version(personalize, group, f"amazon-pantry-{recipe}", recipe)
                for recipe in ("aws-sims", "aws-similar-items")}
    for recipe, version in versions.items():
        version_done(personalize, version)
        arn = campaign(personalize, f"personalize-demo-{recipe}", version)
        related = item_ids(runtime.get_recommendations(campaignArn=arn, itemId="50",
                                                       numResults=10))
        assert len(related) == 10 and "50" not in related


def test_trending_now_without_a_user(personalize, runtime, events, s3):
    """trending_now_example: to_csv() with its index column, aws-trending-now with a trend
    discovery frequency, GetRecommendations(campaignArn, numResults=25) and no userId; events
    after the tracker's 60 s sleep move the trend."""
    rows = [(u, i, "Watch", t) for u, i, _, t in ratings()]
    group = interactions_group(personalize, s3, "trending-now-demo", [
        {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
        {"name": "EVENT_TYPE", "type": "string"}, {"name": "TIMESTAMP", "type": "long"}],
        ["USER_ID", "ITEM_ID", "EVENT_TYPE", "TIMESTAMP"], rows, index=True)
    solution = personalize.create_solution(
        name="trending-now-solution", recipeArn=RECIPES + "aws-trending-now",
        datasetGroupArn=group, solutionConfig={
            "featureTransformationParameters": {"trend_discovery_frequency": "30 minutes"}}
    )["solutionArn"]
    version = personalize.create_solution_version(solutionArn=solution,
                                                  trainingMode="FULL")["solutionVersionArn"]
    version_done(personalize, version)
    trending = campaign(personalize, "trending-now-campaign", version)
    before = item_ids(runtime.get_recommendations(campaignArn=trending, numResults=25))
    assert len(before) == 25

    tracker = personalize.create_event_tracker(name="trending-now-event-tracker",
                                               datasetGroupArn=group)
    wait_until(lambda: personalize.describe_event_tracker(  # the sample sleeps 60 s
        eventTrackerArn=tracker["eventTrackerArn"]), ["eventTracker", "status"])
    rising = [i for i in sorted({i for _, i, _, _ in rows}, key=int) if i not in before][:3]
    now = int(time.time())
    for user in ("1", "2", "3", "4", "5"):
        session = str(uuid.uuid4())
        events.put_events(trackingId=tracker["trackingId"], userId=user, sessionId=session,
                          eventList=[{"eventType": "Watch", "itemId": item, "sentAt": now}
                                     for item in rising])
    after = item_ids(runtime.get_recommendations(campaignArn=trending, numResults=25))
    assert len(after) == 25

    # The userId is needed only by a filter that reads the user.
    flt = personalize.create_filter(
        name="trending-unwatched", datasetGroupArn=group,
        filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Watch")')
    wait_until(lambda: personalize.describe_filter(filterArn=flt["filterArn"]),
               ["filter", "status"])
    with pytest.raises(ClientError) as refused:
        runtime.get_recommendations(campaignArn=trending, filterArn=flt["filterArn"])
    assert code(refused.value) == "InvalidInputException"
    watched = {i for u, i, _, _ in rows if u == "1"} | set(rising)
    unwatched = item_ids(runtime.get_recommendations(campaignArn=trending, userId="1",
                                                     filterArn=flt["filterArn"]))
    assert unwatched and not watched & set(unwatched)
    # No batch recommendations with Trending-Now (its recipe page says so).
    with pytest.raises(ClientError) as refused:
        personalize.create_batch_inference_job(
            jobName="trending-batch", solutionVersionArn=version, roleArn="arn:aws:iam::"
            "000000000000:role/R", jobInput={"s3DataSource": {"path": "s3://b/in.json"}},
            jobOutput={"s3DataDestination": {"path": "s3://b/out/"}})
    assert code(refused.value) == "InvalidInputException"


def test_item_text_unstructured_metadata(personalize, s3):
    """item-text-unstructured-metadata: two dataset groups, Items with and without a
    textual DESCRIPTION, both User-Personalization versions created at once and compared by
    their metrics."""
    rows = [(u, i, t) for u, i, _, t in ratings()]
    catalogue = movies()
    groups = {}
    for name in ("with-text", "without-text"):
        groups[name] = personalize.create_dataset_group(name=f"unstructured-{name}")[
            "datasetGroupArn"]
    for group in groups.values():
        group_done(personalize, group)
    interactions_schema = personalize.create_schema(
        name="unstructured-interactions", schema=schema("Interactions", USER_ITEM_TIME))
    fields = {"with-text": [{"name": "ITEM_ID", "type": "string"},
                            {"name": "GENRES", "type": "string", "categorical": True},
                            {"name": "DESCRIPTION", "type": ["null", "string"],
                             "textual": True}],
              "without-text": [{"name": "ITEM_ID", "type": "string"},
                               {"name": "GENRES", "type": "string", "categorical": True}]}
    bucket = "samples-unstructured"
    jobs = []
    for name, group in groups.items():
        interactions = personalize.create_dataset(
            name=f"unstructured-{name}-interactions", datasetType="INTERACTIONS",
            datasetGroupArn=group, schemaArn=interactions_schema["schemaArn"])["datasetArn"]
        items_schema = personalize.create_schema(name=f"unstructured-{name}-items",
                                                 schema=schema("Items", fields[name]))
        items = personalize.create_dataset(
            name=f"unstructured-{name}-items", datasetType="ITEMS", datasetGroupArn=group,
            schemaArn=items_schema["schemaArn"])["datasetArn"]
        header = [f["name"] for f in fields[name]]
        item_rows = [(m["ITEM_ID"], m["GENRES"], f"{m['TITLE']}, released {m['YEAR']}.")
                     [:len(header)] for m in catalogue]
        jobs.append(import_job(personalize, f"unstructured-{name}-interactions", interactions,
                               upload(s3, bucket, f"{name}/interactions.csv", to_csv(
                                   ["USER_ID", "ITEM_ID", "TIMESTAMP"], rows, index=False))))
        jobs.append(import_job(personalize, f"unstructured-{name}-items", items,
                               upload(s3, bucket, f"{name}/items.csv",
                                      to_csv(header, item_rows, index=False))))
    for job in jobs:
        import_done(personalize, job)
    versions = {name: solution_version(personalize, group, f"unstructured-{name}",
                                       "aws-user-personalization")
                for name, group in groups.items()}
    for version in versions.values():
        version_done(personalize, version)
        metrics = personalize.get_solution_metrics(solutionVersionArn=version)["metrics"]
        assert 0 <= metrics["precision_at_10"] <= 1
