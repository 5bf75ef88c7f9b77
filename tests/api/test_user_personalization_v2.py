"""aws-user-personalization-v2 over HTTP: trained with its documented hyperparameter,
served by a campaign (a PutEvents changes the next recommendation), solution metrics,
and trainingMode UPDATE folding in a new item."""
from tests.api.builders import build_group, import_new_items, ready, train

V2 = "aws-user-personalization-v2"


def test_v2_trains_serves_and_updates(personalize, runtime, events, s3):
    arns = build_group(personalize, s3, "v2-api", with_items=True)
    recipe = personalize.describe_recipe(recipeArn=f"arn:aws:personalize:::recipe/{V2}")
    assert recipe["recipe"]["recipeType"] == "USER_PERSONALIZATION"
    solution, version = train(
        personalize, arns["group"], "v2-api-sol", V2,
        solutionConfig={"algorithmHyperParameters": {"apply_recency_bias": "false",
                                                     "epochs": "6"}})
    described = personalize.describe_solution_version(solutionVersionArn=version)
    assert described["solutionVersion"]["status"] == "ACTIVE"
    assert described["solutionVersion"]["recipeArn"].endswith(V2)
    metrics = personalize.get_solution_metrics(solutionVersionArn=version)["metrics"]
    assert 0 <= metrics["normalized_discounted_cumulative_gain_at_10"] <= 1

    campaign = personalize.create_campaign(
        name="v2-api-camp", solutionVersionArn=version,
        campaignConfig={"itemExplorationConfig": {"explorationWeight": "0"}})["campaignArn"]
    ready(lambda: personalize.describe_campaign(campaignArn=campaign), ["campaign", "status"])
    first = runtime.get_recommendations(campaignArn=campaign, userId="u1", numResults=10)
    items = [i["itemId"] for i in first["itemList"]]
    assert len(items) == 10 == len(set(items))
    tracker = personalize.create_event_tracker(name="v2-api-tracker",
                                               datasetGroupArn=arns["group"])
    ready(lambda: personalize.describe_event_tracker(
        eventTrackerArn=tracker["eventTrackerArn"]), ["eventTracker", "status"])
    events.put_events(trackingId=tracker["trackingId"], userId="u1", sessionId="s1",
                      eventList=[{"eventType": "click", "itemId": items[0],
                                  "sentAt": 1_800_000_000}])
    after = runtime.get_recommendations(campaignArn=campaign, userId="u1", numResults=10)
    assert items[0] not in [i["itemId"] for i in after["itemList"]]  # now in the history

    import_new_items(personalize, s3, arns, "v2-api-new-items", [("i999", "Comedy")])
    update = personalize.create_solution_version(solutionArn=solution,
                                                 trainingMode="UPDATE")["solutionVersionArn"]
    ready(lambda: personalize.describe_solution_version(solutionVersionArn=update),
          ["solutionVersion", "status"])
    personalize.update_campaign(
        campaignArn=campaign, solutionVersionArn=update,
        campaignConfig={"itemExplorationConfig": {"explorationWeight": "1.0",
                                                  "explorationItemAgeCutOff": "30"}})
    ready(lambda: personalize.describe_campaign(campaignArn=campaign), ["campaign", "status"])
    explored = runtime.get_recommendations(campaignArn=campaign, userId="u2", numResults=100)
    assert "i999" in [i["itemId"] for i in explored["itemList"]]
