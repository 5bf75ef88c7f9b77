"""Automatic updates through the running endpoint: a new item imported after training
becomes recommendable without a new solution version; versions trained with UPDATE are
not auto-updated."""
import time

from tests.api.builders import build_group, import_new_items, ready, train
from tests.reliability.http import send

EXPLORE_ALL = {"itemExplorationConfig": {"explorationWeight": "1.0",
                                         "explorationItemAgeCutOff": "30"}}


def run_automatic_updates(endpoint) -> list[str]:
    """The admin route, signed as the endpoint's boto3 clients sign."""
    reply = send(endpoint.url, "POST", "/_personalize/automatic-updates",
                 access_key="testing", secret="testing")
    assert reply.status == 200, reply.body
    return reply.json["updated"]


def recommended(runtime, campaign, user="u1"):
    items = runtime.get_recommendations(campaignArn=campaign, userId=user, numResults=100)
    return [i["itemId"] for i in items["itemList"]]


def test_new_item_is_folded_in_and_update_versions_are_left_alone(
        endpoint, personalize, runtime, s3):
    arns = build_group(personalize, s3, "auto-upd", with_items=True)
    solution, full = train(personalize, arns["group"], "auto-upd-sol",
                           "aws-user-personalization",
                           solutionConfig={"algorithmHyperParameters": {"epochs": "1"}})
    campaign = personalize.create_campaign(name="auto-upd-camp", solutionVersionArn=full,
                                           campaignConfig=EXPLORE_ALL)["campaignArn"]
    ready(lambda: personalize.describe_campaign(campaignArn=campaign), ["campaign", "status"])
    assert "i999" not in recommended(runtime, campaign)
    before = personalize.describe_campaign(campaignArn=campaign)["campaign"]

    import_new_items(personalize, s3, arns, "auto-upd-new-items", [("i999", "Comedy")])

    assert full in run_automatic_updates(endpoint)
    assert "i999" in recommended(runtime, campaign)
    versions = personalize.list_solution_versions(solutionArn=solution)["solutionVersions"]
    assert [v["solutionVersionArn"] for v in versions] == [full]  # no new version
    after = personalize.describe_campaign(campaignArn=campaign)["campaign"]
    assert after["lastUpdatedDateTime"] > before["lastUpdatedDateTime"]

    update = personalize.create_solution_version(solutionArn=solution,
                                                 trainingMode="UPDATE")["solutionVersionArn"]
    ready(lambda: personalize.describe_solution_version(solutionVersionArn=update),
          ["solutionVersion", "status"])
    personalize.update_campaign(campaignArn=campaign, solutionVersionArn=update)
    deadline = time.time() + 30
    while personalize.describe_campaign(campaignArn=campaign)["campaign"]["status"] != "ACTIVE":
        assert time.time() < deadline
        time.sleep(0.05)
    updated = run_automatic_updates(endpoint)
    assert update not in updated and full not in updated
