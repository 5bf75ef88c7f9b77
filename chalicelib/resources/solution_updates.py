"""UpdateSolution: automatic training settings of an existing solution."""
from __future__ import annotations

import re

from chalicelib.errors import InvalidInputException, ResourceInUseException
from chalicelib.records import kinds
from chalicelib.resources.base import OperationsBase
from chalicelib.records.registry import ACTIVE

# AWS accepts rate(N days) with N from 1 to 30.
_SCHEDULE = re.compile(r"rate\((\d+) days?\)")


def check_schedule(expression: str) -> None:
    match = _SCHEDULE.fullmatch(expression.strip())
    if match is None or not 1 <= int(match.group(1)) <= 30:
        raise InvalidInputException(
            f"schedulingExpression {expression!r} is not valid: use rate(N days) with N "
            "between 1 and 30.")


class SolutionUpdateOperations(OperationsBase):
    def update_solution(self, ctx, solutionArn, performAutoTraining=None,
                        performIncrementalUpdate=None, solutionUpdateConfig=None):
        solution = self.registry.get(kinds.SOLUTION, solutionArn)
        if solution["status"] != ACTIVE:
            raise ResourceInUseException(
                f"Solution {solutionArn} is {solution['status']}, not ACTIVE.")
        config = dict(solutionUpdateConfig or {})
        schedule = (config.get("autoTrainingConfig") or {}).get("schedulingExpression")
        if schedule is not None:
            check_schedule(schedule)
        auto = solution["performAutoTraining"] if performAutoTraining is None \
            else performAutoTraining
        if config.get("autoTrainingConfig") and not auto:
            raise InvalidInputException(
                "autoTrainingConfig needs performAutoTraining set to true.")

        def apply(doc):
            doc["performAutoTraining"] = auto
            if performIncrementalUpdate is not None:
                doc["performIncrementalUpdate"] = performIncrementalUpdate
            for key in ("autoTrainingConfig", "eventsConfig"):
                if key in config:
                    doc.setdefault("solutionConfig", {})[key] = config[key]
            doc["latestSolutionUpdate"] = {
                "solutionUpdateConfig": config, "status": ACTIVE,
                "performAutoTraining": auto,
                "performIncrementalUpdate": doc.get("performIncrementalUpdate"),
                "creationDateTime": ctx.received_at, "lastUpdatedDateTime": ctx.received_at}
        self.registry.update(kinds.SOLUTION, solutionArn, apply)
        return {"solutionArn": solutionArn}
