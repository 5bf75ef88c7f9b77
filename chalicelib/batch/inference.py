"""Batch inference and batch segment jobs: JSON lines in from S3, one answer per line out.

The recommendations come from the runtime's own code (model cache, user history with live
events, filters, exploration), pointed at a solution version instead of a campaign, so a
batch job answers exactly what GetRecommendations / GetPersonalizedRanking would.
"""
from __future__ import annotations

import json
import posixpath

import numpy as np

from chalicelib.batch.jobs import folder, read_text, run_job, split_s3, write_text
from chalicelib.errors import InvalidInputException, ServiceError
from chalicelib.filters import parse_filter
from chalicelib.records import kinds
from chalicelib.serving.provider import RuntimeProvider

ITEM_AFFINITY = "aws-item-affinity"
ITEM_ATTRIBUTE_AFFINITY = "aws-item-attribute-affinity"
SEGMENT_RECIPES = (ITEM_AFFINITY, ITEM_ATTRIBUTE_AFFINITY)


class VersionRuntime(RuntimeProvider):
    """RuntimeProvider serving one solution version with a job's configuration."""

    def __init__(self, backend, version: dict, config: dict):
        super().__init__(backend)
        self._served = ({"campaignConfig": config}, version)

    def _campaign(self, campaign_arn):
        return self._served


def output_path(job: dict) -> str:
    """<output folder><input file name>.out, as AWS names it."""
    _, key = split_s3(job["jobInput"]["s3DataSource"]["path"])
    return folder(job["jobOutput"]["s3DataDestination"]["path"]) + \
        posixpath.basename(key) + ".out"


def input_records(text: str):
    """(parsed line or None, raw line, error) per non-blank line."""
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            yield None, line, "The input line is not valid JSON."
            continue
        if not isinstance(value, dict):
            yield None, line, "The input line must be a JSON object."
        else:
            yield value, line, None


def answer_lines(text: str, answer) -> str:
    """Apply answer(record) -> output dict to every line; a line's failure is its error."""
    out = []
    for record, raw, error in input_records(text):
        output = None
        if error is None:
            try:
                output = answer(record)
            except ServiceError as failure:
                error = failure.message
        out.append(json.dumps({"input": record if record is not None else raw,
                               "output": output, "error": error}))
    return "\n".join(out) + ("\n" if out else "")


def run_batch_inference(backend, job_arn: str) -> None:
    run_job(backend, kinds.BATCH_INFERENCE_JOB, job_arn,
            lambda job: _inference(backend, job))


def _inference(backend, job: dict) -> None:
    version = backend.registry.get(kinds.SOLUTION_VERSION, job["solutionVersionArn"])
    config = {"itemExplorationConfig": (job.get("batchInferenceJobConfig") or {})
              .get("itemExplorationConfig") or {}}
    runtime = VersionRuntime(backend, version, config)
    recipe_type = runtime._recipe_type(version["recipeArn"])
    s3 = backend.s3_client()
    text = read_text(s3, job["jobInput"]["s3DataSource"]["path"])

    def answer(record: dict) -> dict:
        common = {"filterArn": job.get("filterArn"),
                  "filterValues": record.get("filterValues")}
        if recipe_type == "PERSONALIZED_RANKING":
            if not record.get("userId") or not isinstance(record.get("itemList"), list):
                raise InvalidInputException(
                    "Each input line needs userId and itemList for a PERSONALIZED_RANKING "
                    "solution version.")
            result = runtime.get_personalized_ranking(
                None, campaignArn=None, inputList=[str(i) for i in record["itemList"]],
                userId=str(record["userId"]), **common)["personalizedRanking"]
        else:
            key = "itemId" if recipe_type == "RELATED_ITEMS" else "userId"
            if not record.get(key):
                raise InvalidInputException(
                    f"Each input line needs {key} for a {recipe_type} solution version.")
            result = runtime.get_recommendations(
                None, numResults=job["numResults"], **{key: str(record[key])},
                **common)["itemList"]
        return {"recommendedItems": [r["itemId"] for r in result],
                "scores": [round(float(r["score"]), 7) for r in result]}

    write_text(s3, output_path(job), answer_lines(text, answer))


# -- batch segments ---------------------------------------------------------------------

def run_batch_segment(backend, job_arn: str) -> None:
    run_job(backend, kinds.BATCH_SEGMENT_JOB, job_arn, lambda job: _segments(backend, job))


def _segments(backend, job: dict) -> None:
    version = backend.registry.get(kinds.SOLUTION_VERSION, job["solutionVersionArn"])
    runtime = VersionRuntime(backend, version, {})
    deployed = runtime.models.get(version)
    model, users = deployed.model, sorted(deployed.histories)
    position = {item: i for i, item in enumerate(model.item_ids)}
    by_attribute = version["recipeArn"].endswith(ITEM_ATTRIBUTE_AFFINITY)
    s3 = backend.s3_client()
    text = read_text(s3, job["jobInput"]["s3DataSource"]["path"])
    # Affinity of every user for every item, computed once: each input line is then a
    # column (or the mean of the columns its attribute expression selects).
    affinity = np.zeros((len(users), len(model.item_ids)), dtype=np.float32)
    for row, user in enumerate(users):
        history = deployed.histories[user]
        for item, score in _all_scores(model, user, history):
            if item in position:
                affinity[row, position[item]] = score

    def answer(record: dict) -> dict:
        if by_attribute:
            columns = np.flatnonzero(_attribute_mask(runtime, version, deployed, record))
        else:
            if not record.get("itemId"):
                raise InvalidInputException("Each input line needs itemId for "
                                            f"{ITEM_AFFINITY}.")
            found = position.get(str(record["itemId"]))
            if found is None:
                raise InvalidInputException(f"Item {record['itemId']} is not in the model.")
            columns = np.array([found])
        if len(columns) == 0 or not users:
            return {"usersList": []}
        scores = affinity[:, columns].mean(axis=1)
        order = np.argsort(-scores, kind="stable")[:job["numResults"]]
        return {"usersList": [users[i] for i in order]}

    write_text(s3, output_path(job), answer_lines(text, answer))


def _all_scores(model, user: str, history: list[str]):
    """A user's score for every item: rank when the model can, else its full top list."""
    try:
        return model.rank(user, history, list(model.item_ids))
    except NotImplementedError:
        return model.recommend(user, history, len(model.item_ids), exploration_weight=0.0)


def _attribute_mask(runtime, version, deployed, record) -> np.ndarray:
    """itemAttributes ('ITEMS.genres = "Comedy"') selects items with the filter language."""
    expression = record.get("itemAttributes")
    if not expression:
        raise InvalidInputException(f"Each input line needs itemAttributes for "
                                    f"{ITEM_ATTRIBUTE_AFFINITY}.")
    flt = parse_filter(f"INCLUDE ItemID WHERE {expression}")
    return runtime._catalog(version, deployed).mask(flt, {})
