"""Solutions and solution versions: what to train, and each training run."""
from __future__ import annotations

import uuid

from chalicelib.errors import InvalidInputException, ResourceInUseException
from chalicelib.models import UPDATABLE, implemented_recipes, recipe_name
from chalicelib.records import kinds
from chalicelib.records.arns import arn_name
from chalicelib.records.recipe_catalogue import describe_recipe
from chalicelib.records.registry import (ACTIVE, CREATE_IN_PROGRESS, CREATE_PENDING,
                                         CREATE_STOPPING)
from chalicelib.records.versions import RUNNING, version_summary
from chalicelib.resources.base import OperationsBase, not_deleted
from chalicelib.resources.hyperparameters import check_solution_config
from chalicelib.resources.optimization_objective import check_optimization_objective

DEFAULT_RECIPE = "arn:aws:personalize:::recipe/aws-user-personalization"
TRAINING_MODES = ("FULL", "UPDATE", "AUTOTRAIN")


class SolutionOperations(OperationsBase):
    def create_solution(self, ctx, name, datasetGroupArn, performHPO=False,
                        performAutoML=False, performAutoTraining=None, recipeArn=None,
                        eventType=None, solutionConfig=None, tags=None,
                        performIncrementalUpdate=None):
        self._parent(kinds.DATASET_GROUP, datasetGroupArn)
        if recipeArn is None and not performAutoML:
            raise InvalidInputException("recipeArn is required unless performAutoML is true.")
        recipe = recipeArn or DEFAULT_RECIPE
        describe_recipe(recipe)  # ResourceNotFoundException for an unknown recipe
        if recipe_name(recipe) not in implemented_recipes():
            raise InvalidInputException(f"Recipe {recipe} is not supported here yet.")
        check_solution_config(recipe, solutionConfig, performHPO)
        check_optimization_objective(self.registry, datasetGroupArn, recipe, solutionConfig)
        doc = self.registry.create(
            kinds.SOLUTION, ctx.arn_prefix, name,
            {"datasetGroupArn": datasetGroupArn, "recipeArn": recipe,
             "performHPO": bool(performHPO), "performAutoML": bool(performAutoML),
             "performAutoTraining": bool(performAutoTraining), "eventType": eventType,
             "performIncrementalUpdate": bool(performIncrementalUpdate),
             "solutionConfig": solutionConfig or {}}, tags=tags)
        return {"solutionArn": doc["solutionArn"]}

    def describe_solution(self, ctx, solutionArn):
        return {"solution": self.registry.get(kinds.SOLUTION, solutionArn)}

    def list_solutions(self, ctx, datasetGroupArn=None, nextToken=None, maxResults=None):
        return self._list_in(kinds.SOLUTION, ctx, "solutions", nextToken, maxResults,
                             "datasetGroupArn", datasetGroupArn, skip_deleted=True)

    def delete_solution(self, ctx, solutionArn):
        self.registry.get(kinds.SOLUTION, solutionArn)
        versions = self._versions(ctx, solutionArn)
        if any(v["status"] in RUNNING for v in versions):
            raise ResourceInUseException(f"Solution {solutionArn} has a version in training.")
        version_arns = {v["solutionVersionArn"] for v in versions}
        campaigns = self.registry.list(
            kinds.CAMPAIGN, ctx.arn_prefix,
            lambda d: d["solutionVersionArn"] in version_arns and not_deleted(d))
        if campaigns:
            raise ResourceInUseException(
                f"Solution {solutionArn} is used by campaign {campaigns[0]['campaignArn']}.")
        for version in versions:
            self.registry.delete(kinds.SOLUTION_VERSION, version["solutionVersionArn"])
        self.registry.delete(kinds.SOLUTION, solutionArn)

    # -- versions ------------------------------------------------------------------
    def _versions(self, ctx, solution_arn: str) -> list[dict]:
        return self.registry.list(kinds.SOLUTION_VERSION, ctx.arn_prefix,
                                  lambda d: d["solutionArn"] == solution_arn)

    def create_solution_version(self, ctx, solutionArn, name=None, trainingMode=None,
                                tags=None):
        solution = self.registry.get_active(kinds.SOLUTION, solutionArn)
        mode = trainingMode or "FULL"
        versions = self._versions(ctx, solutionArn)
        if any(v["status"] in RUNNING for v in versions):
            raise ResourceInUseException(
                f"Solution {solutionArn} already has a version in training.")
        if mode == "UPDATE":
            if recipe_name(solution["recipeArn"]) not in UPDATABLE:
                raise InvalidInputException(
                    f"trainingMode UPDATE is not supported by {solution['recipeArn']}.")
            if not any(v["status"] == ACTIVE for v in versions):
                raise InvalidInputException(
                    "trainingMode UPDATE needs an ACTIVE solution version trained with FULL.")
        version_id = uuid.uuid4().hex[:8]
        doc = self.registry.create(
            kinds.SOLUTION_VERSION, ctx.arn_prefix, name or version_id,
            {"solutionArn": solutionArn, "recipeArn": solution["recipeArn"],
             "datasetGroupArn": solution["datasetGroupArn"], "eventType": solution["eventType"],
             "performHPO": solution["performHPO"], "performAutoML": solution["performAutoML"],
             "solutionConfig": solution["solutionConfig"], "trainingMode": mode,
             "trainingType": "MANUAL"},
            tags=tags, arn_name=f"{arn_name(solutionArn)}/{version_id}")
        self._note_latest(solutionArn, doc)
        self.backend.tasks.start_training(doc["solutionVersionArn"])
        return {"solutionVersionArn": doc["solutionVersionArn"]}

    def _note_latest(self, solution_arn: str, version: dict) -> None:
        def note(solution):
            solution["latestSolutionVersion"] = version_summary(version)
        self.registry.update(kinds.SOLUTION, solution_arn, note)

    def describe_solution_version(self, ctx, solutionVersionArn):
        return {"solutionVersion": self.registry.get(kinds.SOLUTION_VERSION, solutionVersionArn)}

    def list_solution_versions(self, ctx, solutionArn=None, nextToken=None, maxResults=None):
        if solutionArn is not None:
            self.registry.get(kinds.SOLUTION, solutionArn)
        return self._list_in(kinds.SOLUTION_VERSION, ctx, "solutionVersions", nextToken,
                             maxResults, "solutionArn", solutionArn)

    def stop_solution_version_creation(self, ctx, solutionVersionArn):
        version = self.registry.get(kinds.SOLUTION_VERSION, solutionVersionArn)
        if version["status"] not in (CREATE_PENDING, CREATE_IN_PROGRESS):
            raise ResourceInUseException(
                f"Solution version {solutionVersionArn} is {version['status']}; only a "
                "version in CREATE PENDING or CREATE IN_PROGRESS can be stopped.")

        def stopping(doc):
            if doc["status"] in (CREATE_PENDING, CREATE_IN_PROGRESS):
                doc["status"] = CREATE_STOPPING
        self.registry.update(kinds.SOLUTION_VERSION, solutionVersionArn, stopping)
        self.backend.tasks.stop_training(solutionVersionArn)

    def get_solution_metrics(self, ctx, solutionVersionArn):
        version = self.registry.get(kinds.SOLUTION_VERSION, solutionVersionArn)
        if version["status"] != ACTIVE:
            raise ResourceInUseException(
                f"Solution version {solutionVersionArn} is {version['status']}, not ACTIVE.")
        return {"solutionVersionArn": solutionVersionArn,
                "metrics": version.get("_metrics", {})}
