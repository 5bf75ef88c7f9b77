"""GetActionRecommendations: next best actions, for campaigns of a PERSONALIZED_ACTIONS
recipe (aws-next-best-action). Other campaigns answer InvalidInputException, as AWS does."""
from __future__ import annotations

from chalicelib.errors import InvalidInputException

MAX_ACTIONS = 100
DEFAULT_ACTIONS = 5


class ActionRecommendationOperations:
    """Mixed into RuntimeProvider: uses its _campaign and _recipe_type."""

    def get_action_recommendations(self, ctx, campaignArn=None, userId=None,
                                   numResults=None, filterArn=None, filterValues=None):
        if campaignArn is None:
            raise InvalidInputException("campaignArn is required.")
        if not userId:
            raise InvalidInputException("userId is required.")
        count = DEFAULT_ACTIONS if numResults is None else numResults
        if count > MAX_ACTIONS:
            raise InvalidInputException(f"numResults must be at most {MAX_ACTIONS}.")
        _, version = self._campaign(campaignArn)
        recipe_type = self._recipe_type(version["recipeArn"])
        if recipe_type != "PERSONALIZED_ACTIONS":
            raise InvalidInputException(
                f"GetActionRecommendations needs a campaign of a PERSONALIZED_ACTIONS recipe "
                f"(aws-next-best-action); {campaignArn} serves a {recipe_type} recipe.")
        # No PERSONALIZED_ACTIONS recipe is trainable here yet (CreateSolution refuses
        # aws-next-best-action), so no campaign can reach this point.
        raise InvalidInputException(
            f"Recipe {version['recipeArn']} is not supported for action recommendations.")
