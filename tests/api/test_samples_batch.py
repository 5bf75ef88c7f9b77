"""AWS's batch and dataset-update samples, call for call (aws-samples/amazon-personalize-
samples, next_steps/core_use_cases): batch_recommendations, updating_datasets (new items,
re-imports, PutItems/PutUsers from the developer guide, INCREMENTAL imports; UpdateDataset
with a wider schema) and user_segmentation (aws-item-affinity, aws-item-attribute-affinity,
batch segment jobs). Only endpoint_url differs; data is MovieLens 100K cut to 30 users."""
import json

import pytest

from tests.api.samples import (ROLE, group_done, import_done, import_job, movies, ratings,
                               read_json_lines, schema, to_csv, upload, version_done,
                               wait_until)

RECIPES = "arn:aws:personalize:::recipe/"
BUCKET = "samples-retail"


def batch_job_done(personalize, arn: str, kind: str = "batchInferenceJob") -> dict:
    describe = (personalize.describe_batch_inference_job if kind == "batchInferenceJob"
                else personalize.describe_batch_segment_job)
    return wait_until(lambda: describe(**{f"{kind}Arn": arn}), [kind, "status"])


@pytest.fixture(scope="module")
def retail(personalize, s3):
    """update-datasets-user-personalization-example up to its first solution version:
    Users, Items and Interactions created, waited for (the sample polls the datasets),
    imported, and one User-Personalization version."""
    rows = ratings()
    catalogue = movies()
    group = personalize.create_dataset_group(name="retaildemostore-products")[
        "datasetGroupArn"]
    group_done(personalize, group)
    fields = {
        "Users": [{"name": "USER_ID", "type": "string"},
                  {"name": "GENDER", "type": "string", "categorical": True}],
        "Items": [{"name": "ITEM_ID", "type": "string"},
                  {"name": "CATEGORY", "type": "string", "categorical": True},
                  {"name": "PRICE", "type": "float"}],
        "Interactions": [{"name": "ITEM_ID", "type": "string"},
                         {"name": "USER_ID", "type": "string"},
                         {"name": "EVENT_TYPE", "type": "string"},
                         {"name": "TIMESTAMP", "type": "long"}]}
    data = {"Users": [(str(u), "MF"[u % 2]) for u in range(1, 31)],
            "Items": [(m["ITEM_ID"], m["GENRES"].split("|")[0], 9.99) for m in catalogue],
            "Interactions": [(i, u, "View", t) for u, i, _, t in rows]}
    datasets = {}
    for dataset_type, dataset_fields in fields.items():
        schema_arn = personalize.create_schema(
            name=f"retaildemostore-{dataset_type.lower()}",
            schema=schema(dataset_type, dataset_fields))["schemaArn"]
        datasets[dataset_type] = personalize.create_dataset(
            name=f"retaildemostore-{dataset_type.lower()}", datasetType=dataset_type.upper(),
            datasetGroupArn=group, schemaArn=schema_arn)["datasetArn"]
    for arn in datasets.values():
        wait_until(lambda: personalize.describe_dataset(datasetArn=arn), ["dataset", "status"])
    jobs = [import_job(personalize, f"retaildemostore-{t.lower()}", datasets[t],
                       upload(s3, BUCKET, f"{t.lower()}.csv",
                              to_csv([f["name"] for f in fields[t]], data[t], index=False)))
            for t in ("Users", "Items", "Interactions")]
    for job in jobs:
        import_done(personalize, job)
    solution = personalize.create_solution(
        name="retaildemostore-user-personalization-solution", datasetGroupArn=group,
        recipeArn=RECIPES + "aws-user-personalization")["solutionArn"]
    version = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    version_done(personalize, version)
    return {"group": group, "datasets": datasets, "version": version, "rows": rows,
            "fields": fields, "data": data}


def batch_users(s3, key: str, users) -> str:
    """The samples write one {"userId": ...} per line."""
    return upload(s3, BUCKET, key, "".join(
        json.dumps({"userId": user}) + "\n" for user in users).encode())


def test_batch_recommendations(personalize, s3, retail):
    """user_personalization_batch_recommendations_example: output <path><input>.out."""
    location = batch_users(s3, "json_input.json", ["1", "2", "3"])
    job = personalize.create_batch_inference_job(
        solutionVersionArn=retail["version"], jobName="Batch-Inference-Job", roleArn=ROLE,
        jobInput={"s3DataSource": {"path": location}},
        jobOutput={"s3DataDestination": {"path": f"s3://{BUCKET}/"}})["batchInferenceJobArn"]
    batch_job_done(personalize, job)
    lines = read_json_lines(s3, f"s3://{BUCKET}/json_input.json.out")
    assert [line["input"]["userId"] for line in lines] == ["1", "2", "3"]
    assert all(len(line["output"]["recommendedItems"]) == 25 and line["error"] is None
               for line in lines)


def test_updating_datasets_after_training(personalize, events, s3, retail):
    """New items arrive by a FULL re-import, by PutItems/PutUsers and by an INCREMENTAL
    import; batch recommendations from the same version then run over the new data."""
    datasets, fields = retail["datasets"], retail["fields"]
    new_items = [("new_1", "Drama", 4.99), ("new_2", "Comedy", 5.99)]
    items_header = [f["name"] for f in fields["Items"]]
    job = import_job(personalize, "updated_items_dataset_import_job", datasets["Items"],
                     upload(s3, BUCKET, "items.csv", to_csv(
                         items_header, retail["data"]["Items"] + new_items, index=False)),
                     importMode="FULL")
    import_done(personalize, job)
    events.put_items(datasetArn=datasets["Items"], items=[
        {"itemId": "new_3", "properties": json.dumps({"category": "Action", "price": 7.5})}])
    events.put_users(datasetArn=datasets["Users"], users=[
        {"userId": "31", "properties": json.dumps({"gender": "F"})}])
    last = max(t for _, _, _, t in retail["data"]["Interactions"])
    increment = [("new_1", "31", "View", last + 60), ("new_2", "31", "View", last + 120)]
    job = import_job(personalize, "incremental-interactions", datasets["Interactions"],
                     upload(s3, BUCKET, "increment.csv", to_csv(
                         [f["name"] for f in fields["Interactions"]], increment, index=False)),
                     importMode="INCREMENTAL")
    assert import_done(personalize, job)["importMode"] == "INCREMENTAL"
    listed = personalize.list_dataset_import_jobs(datasetArn=datasets["Interactions"])
    assert {j["importMode"] for j in listed["datasetImportJobs"]} == {"FULL", "INCREMENTAL"}

    location = batch_users(s3, "batch-job-input/au.json", ["1", "31"])
    job = personalize.create_batch_inference_job(
        solutionVersionArn=retail["version"], jobName="retaildemostore-job-au", roleArn=ROLE,
        jobInput={"s3DataSource": {"path": location}}, numResults=10,
        jobOutput={"s3DataDestination": {"path": f"s3://{BUCKET}/batch-job-outputs/au/"}}
    )["batchInferenceJobArn"]
    batch_job_done(personalize, job)
    lines = read_json_lines(s3, f"s3://{BUCKET}/batch-job-outputs/au/au.json.out")
    assert [len(line["output"]["recommendedItems"]) for line in lines] == [10, 10]


@pytest.fixture(scope="module")
def grocery(personalize, s3):
    """user_segmentation_example's second dataset group: Items with CATEGORY, BRAND,
    MAIN_CAT and PRICE written with index=True under an ITEM_ID index name."""
    rows = ratings()
    interactions_schema = personalize.create_schema(
        name="amazon-grocery-interaction-schema", schema=schema("Interactions", [
            {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
            {"name": "TIMESTAMP", "type": "long"}]))["schemaArn"]
    items_schema = personalize.create_schema(
        name="amazon-grocery-meta-item-schema", schema=schema("Items", [
            {"name": "ITEM_ID", "type": "string"},
            {"name": "CATEGORY", "type": ["null", "string"], "categorical": True},
            {"name": "BRAND", "type": ["null", "string"], "categorical": True},
            {"name": "MAIN_CAT", "type": ["null", "string"], "categorical": True},
            {"name": "PRICE", "type": ["null", "float"]}]))["schemaArn"]
    group = personalize.create_dataset_group(name="amazon-grocery-attr-meta-demo")[
        "datasetGroupArn"]
    group_done(personalize, group)
    interactions = personalize.create_dataset(
        name="interactions", datasetType="INTERACTIONS", datasetGroupArn=group,
        schemaArn=interactions_schema)["datasetArn"]
    items = personalize.create_dataset(name="items", datasetType="ITEMS",
                                       datasetGroupArn=group, schemaArn=items_schema)[
        "datasetArn"]
    catalogue = [(m["ITEM_ID"], m["GENRES"], ["Starbucks", "Jelly Belly"][int(m["ITEM_ID"]) % 2],
                  "Grocery", "3.50") for m in movies()]
    for name, dataset, key, body in (
            ("notebook-item-attr-inters-import", interactions, "interactions.csv",
             to_csv(["USER_ID", "ITEM_ID", "TIMESTAMP"], [(u, i, t) for u, i, _, t in rows],
                    index=False)),
            ("notebook-item-attr-meta-import", items, "items-nontextual-meta.csv",
             # meta.to_csv(index=True) of a DataFrame indexed by ITEM_ID: a named index
             to_csv(["ITEM_ID", "CATEGORY", "BRAND", "MAIN_CAT", "PRICE"], catalogue,
                    index=False))):
        import_done(personalize, import_job(personalize, name, dataset,
                                            upload(s3, "samples-grocery", key, body)))
    return {"group": group, "items": items, "catalogue": catalogue}


def segments(personalize, s3, version: str, job_name: str, key: str, queries: list[dict],
             count: int) -> list[dict]:
    """The samples' batch segment step: one query per input line, the job, its wait, and
    the lines of <output path><input file>.out."""
    path = upload(s3, "samples-grocery", key,
                  "".join(json.dumps(query) + "\n" for query in queries).encode())
    job = personalize.create_batch_segment_job(
        jobName=job_name, solutionVersionArn=version, numResults=count,
        jobInput={"s3DataSource": {"path": path}},
        jobOutput={"s3DataDestination": {"path": "s3://samples-grocery/output/"}},
        roleArn=ROLE)["batchSegmentJobArn"]
    batch_job_done(personalize, job, "batchSegmentJob")
    return read_json_lines(s3, f"s3://samples-grocery/output/{key}.out")


def test_user_segmentation_item_affinity(personalize, s3, grocery):
    solution = personalize.create_solution(
        name="item-affinity-amazon-grocery-meta-demo", datasetGroupArn=grocery["group"],
        recipeArn=RECIPES + "aws-item-affinity")["solutionArn"]
    assert personalize.describe_solution(solutionArn=solution)["solution"]["status"] == "ACTIVE"
    version = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    version_done(personalize, version)
    assert personalize.get_solution_metrics(solutionVersionArn=version)["metrics"]
    output = segments(personalize, s3, version, "notebook-query-demo-500",
                      "query-amazon-grocery.json", [{"itemId": "50"}, {"itemId": "1"}], 5)
    assert [line["input"]["itemId"] for line in output] == ["50", "1"]
    assert all(len(line["output"]["usersList"]) == 5 for line in output)


def test_user_segmentation_item_attribute_affinity_and_schema_update(personalize, s3, grocery):
    """The attribute-affinity half, then update-item-dataset-schema-example's UpdateDataset
    to a wider Items schema and its re-import; the version keeps segmenting."""
    solution = personalize.create_solution(
        name="item-attr-affinity-amazon-grocery-demo", datasetGroupArn=grocery["group"],
        recipeArn=RECIPES + "aws-item-attribute-affinity")["solutionArn"]
    version = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    version_done(personalize, version)
    queries = [{"itemAttributes": 'ITEMS.BRAND = "Starbucks"'},
               {"itemAttributes": 'ITEMS.BRAND = "Jelly Belly"'}]
    output = segments(personalize, s3, version, "amazon-grocery-attribute-demo",
                      "query-amazon-grocery-attribute.json", queries, 10)
    assert [line["input"] for line in output] == queries
    assert all(len(line["output"]["usersList"]) == 10 for line in output)

    wider = personalize.create_schema(name="import-job-updated-items-schema", schema=schema(
        "Items", [{"name": "ITEM_ID", "type": "string"},
                  {"name": "CATEGORY", "type": ["null", "string"], "categorical": True},
                  {"name": "BRAND", "type": ["null", "string"], "categorical": True},
                  {"name": "MAIN_CAT", "type": ["null", "string"], "categorical": True},
                  {"name": "PRICE", "type": ["null", "float"]},
                  {"name": "CATEGORY_L2", "type": ["null", "string"],
                   "categorical": True}]))["schemaArn"]
    updated = personalize.update_dataset(datasetArn=grocery["items"], schemaArn=wider)[
        "datasetArn"]
    described = wait_until(lambda: personalize.describe_dataset(datasetArn=updated),
                           ["dataset", "status"])
    assert described["schemaArn"] == wider
    assert described["latestDatasetUpdate"]["schemaArn"] == wider
    rows = [entry + ("Snacks",) for entry in grocery["catalogue"]]
    job = import_job(personalize, "updated-items-dataset-import-job", updated, upload(
        s3, "samples-grocery", "items-updated.csv", to_csv(
            ["ITEM_ID", "CATEGORY", "BRAND", "MAIN_CAT", "PRICE", "CATEGORY_L2"], rows,
            index=False)), importMode="FULL")
    import_done(personalize, job)
