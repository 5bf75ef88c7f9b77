"""AWS's domain dataset group samples, call for call (aws-samples/amazon-personalize-
samples): getting_started/notebooks_managed_domains (VIDEO_ON_DEMAND, ECOMMERCE) and
core_use_cases/filters/promotions, which is the ECOMMERCE one plus Items, a filter and
promotions. Only endpoint_url differs; data is MovieLens 100K cut to 30 users."""
import pytest
from botocore.exceptions import ClientError

from tests.api.builders import code
from tests.api.samples import (group_done, import_done, import_job, item_ids, movies,
                               ratings, schema, to_csv, upload, wait_until)

RECIPES = "arn:aws:personalize:::recipe/"


def recommender(personalize, name: str, recipe: str, group: str) -> str:
    return personalize.create_recommender(name=name, recipeArn=RECIPES + recipe,
                                          datasetGroupArn=group)["recommenderArn"]


def recommender_done(personalize, arn: str) -> dict:
    return wait_until(lambda: personalize.describe_recommender(recommenderArn=arn),
                      ["recommender", "status"], timeout=400)


def domain_group(personalize, s3, name: str, domain: str, sources: dict) -> dict:
    """Dataset group (waited for), schemas with the domain, datasets, then every import
    job at once (the samples sleep only for IAM, never for the datasets)."""
    group = personalize.create_dataset_group(name=name, domain=domain)["datasetGroupArn"]
    group_done(personalize, group)
    datasets = {}
    for dataset_type, (fields, _, _) in sources.items():
        schema_arn = personalize.create_schema(
            name=f"{name}-{dataset_type.lower()}", domain=domain,
            schema=schema(dataset_type, fields))["schemaArn"]
        datasets[dataset_type] = personalize.create_dataset(
            name=f"{name}_{dataset_type.lower()}", datasetType=dataset_type.upper(),
            datasetGroupArn=group, schemaArn=schema_arn)["datasetArn"]
    jobs = [import_job(personalize, f"{name}-{dataset_type.lower()}", datasets[dataset_type],
                       upload(s3, f"samples-{name}", f"{dataset_type.lower()}.csv",
                              to_csv([f["name"] for f in fields], rows, index=index)))
            for dataset_type, (fields, rows, index) in sources.items()]
    for job in jobs:
        import_done(personalize, job)
    return {"group": group, **datasets}


def test_video_on_demand_recommenders(personalize, runtime, s3):
    catalogue = movies()
    sources = {
        "Interactions": ([{"name": "USER_ID", "type": "string"},
                          {"name": "ITEM_ID", "type": "string"},
                          {"name": "EVENT_TYPE", "type": "string"},
                          {"name": "TIMESTAMP", "type": "long"}],
                         [(u, i, "Watch", t) for u, i, _, t in ratings()], False),
        "Items": ([{"name": "ITEM_ID", "type": "string"},
                   {"name": "GENRES", "type": ["null", "string"], "categorical": True},
                   {"name": "YEAR", "type": ["null", "string"], "categorical": True},
                   {"name": "CREATION_TIMESTAMP", "type": "long"}],
                  [(m["ITEM_ID"], m["GENRES"], str(m["YEAR"] or ""), 880_000_000)
                   for m in catalogue], False),
        "Users": ([{"name": "USER_ID", "type": "string"},
                   {"name": "GENDER", "type": ["null", "string"], "categorical": True}],
                  [(str(u), "MF"[u % 2]) for u in range(1, 31)], False)}
    setup = domain_group(personalize, s3, "personalize-video-on-demand-ds-group",
                         "VIDEO_ON_DEMAND", sources)
    available = personalize.list_recipes(domain="VIDEO_ON_DEMAND")["recipes"]
    assert {RECIPES + "aws-vod-more-like-x", RECIPES + "aws-vod-top-picks"} <= {
        r["recipeArn"] for r in available}
    more_like_x = recommender(personalize, "more_like_x_demo", "aws-vod-more-like-x",
                              setup["group"])
    top_picks = recommender(personalize, "top_picks_for_you_demo", "aws-vod-top-picks",
                            setup["group"])
    trending = recommender(personalize, "trending_now_demo", "aws-vod-trending-now",
                           setup["group"])
    for arn in (more_like_x, top_picks, trending):
        recommender_done(personalize, arn)
    similar = item_ids(runtime.get_recommendations(recommenderArn=more_like_x, userId="5",
                                                   itemId="50", numResults=20))
    assert len(similar) == 20 and "50" not in similar
    assert len(item_ids(runtime.get_recommendations(recommenderArn=top_picks, userId="5",
                                                    numResults=20))) == 20
    # "Trending now": userId only for a filter that reads the user (the VIDEO_ON_DEMAND
    # page); "More like X" needs both.
    assert len(item_ids(runtime.get_recommendations(recommenderArn=trending,
                                                    numResults=10))) == 10
    with pytest.raises(ClientError) as refused:
        runtime.get_recommendations(recommenderArn=more_like_x, itemId="50")
    assert code(refused.value) == "InvalidInputException"


def test_ecommerce_recommenders_filters_and_promotions(personalize, runtime, s3):
    """Building_Your_First_Recommender_Ecommerce and Promotions: both write their CSVs
    with pandas' to_csv(path), so each file starts with an unnamed index column."""
    categories = ["halloween", "decorative", "christmas"]
    interactions = [(u, i, "Purchase" if r > 4 else "View", t) for u, i, r, t in ratings()]
    items = [(m["ITEM_ID"], 9.99, "seasonal", categories[int(m["ITEM_ID"]) % 3], "F")
             for m in movies()]
    sources = {
        "Interactions": ([{"name": "USER_ID", "type": "string"},
                          {"name": "ITEM_ID", "type": "string"},
                          {"name": "TIMESTAMP", "type": "long"},
                          {"name": "EVENT_TYPE", "type": "string"}],
                         [(u, i, t, e) for u, i, e, t in interactions], True),
        "Items": ([{"name": "ITEM_ID", "type": "string"}, {"name": "PRICE", "type": "float"},
                   {"name": "CATEGORY_L1", "type": "string", "categorical": True},
                   {"name": "CATEGORY_L2", "type": "string", "categorical": True},
                   {"name": "GENDER", "type": "string", "categorical": True}], items, True)}
    setup = domain_group(personalize, s3, "personalize_ecomemerce_ds_group", "ECOMMERCE",
                         sources)
    available = {r["recipeArn"] for r in personalize.list_recipes(domain="ECOMMERCE")["recipes"]}
    assert RECIPES + "aws-ecomm-recommended-for-you" in available
    viewed_x = recommender(personalize, "viewed_x_also_viewed_demo",
                           "aws-ecomm-customers-who-viewed-x-also-viewed", setup["group"])
    for_you = recommender(personalize, "recommended_for_you_demo",
                          "aws-ecomm-recommended-for-you", setup["group"])
    for arn in (viewed_x, for_you):
        recommender_done(personalize, arn)
    assert item_ids(runtime.get_recommendations(recommenderArn=viewed_x, itemId="50",
                                                userId="7", numResults=10))
    assert len(item_ids(runtime.get_recommendations(recommenderArn=for_you, userId="7",
                                                    numResults=20))) == 20

    flt = personalize.create_filter(
        name="category_filter", datasetGroupArn=setup["group"],
        filterExpression="INCLUDE ItemID WHERE Items.CATEGORY_L2 IN ($CATEGORY)")["filterArn"]
    wait_until(lambda: personalize.describe_filter(filterArn=flt), ["filter", "status"])
    category = {i: c for i, _, _, c, _ in items}
    halloween = item_ids(runtime.get_recommendations(
        recommenderArn=for_you, userId="7", numResults=20, filterArn=flt,
        filterValues={"CATEGORY": '"halloween"'}))
    assert halloween and {category[i] for i in halloween} == {"halloween"}
    promotion = {"name": "halloween_promotion", "percentPromotedItems": 20,
                 "filterArn": flt, "filterValues": {"CATEGORY": '"halloween"'}}
    promoted = runtime.get_recommendations(recommenderArn=for_you, userId="7", numResults=20,
                                           promotions=[promotion])["itemList"]
    assert len(promoted) == 20
    assert sum(1 for entry in promoted if entry.get("promotionName")
               == "halloween_promotion") == 4
    both = runtime.get_recommendations(
        recommenderArn=for_you, userId="7", numResults=20, filterArn=flt,
        filterValues={"CATEGORY": '"decorative"'}, promotions=[promotion])["itemList"]
    assert {category[e["itemId"]] for e in both if e.get("promotionName")} == {"halloween"}
    assert {category[e["itemId"]] for e in both if not e.get("promotionName")} == {
        "decorative"}
