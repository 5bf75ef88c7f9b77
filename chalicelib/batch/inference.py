"""Batch inference and batch segment jobs: JSON lines in from S3, one answer per line out.

The recommendations come from the runtime's own code (model cache, user history with live
events, filters, exploration), pointed at a solution version instead of a campaign, so a
batch job answers exactly what GetRecommendations / GetPersonalizedRanking would.
"""
from __future__ import annotations

import json
import logging
import posixpath
import re

import numpy as np

from chalicelib import strict_json
from chalicelib.batch.jobs import folder, read_bytes, run_job, split_s3, write_text
from chalicelib.datasets.csv_import import MAX_ID_LENGTH
from chalicelib.errors import InvalidInputException, ServiceError
from chalicelib.resources import kinds
from chalicelib.serving.provider import RuntimeProvider

ITEM_AFFINITY = "aws-item-affinity"
ITEM_ATTRIBUTE_AFFINITY = "aws-item-attribute-affinity"
SEGMENT_RECIPES = (ITEM_AFFINITY, ITEM_ATTRIBUTE_AFFINITY)
log = logging.getLogger(__name__)


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


def input_records(data: bytes):
    """(parsed line or None, the line as text, error) per non-blank line. Each line is
    read on its own, strictly (chalicelib.strict_json): a line that is not UTF-8, not a
    JSON object, or holds NaN or a lone surrogate gets its own error, as AWS reports bad
    lines in the output and still completes the job."""
    for number, line in enumerate(data.splitlines(), start=1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")   # a byte-order mark
        if not line.strip():
            continue
        shown = line.decode("utf-8", "backslashreplace")
        try:
            value = strict_json.loads(line, "The input line")
        except strict_json.JsonError as error:
            yield None, strict_json.printable(shown), error.message
            continue
        if not isinstance(value, dict):
            yield None, shown, "The input line must be a JSON object."
        else:
            yield value, shown, None


def answer_lines(data: bytes, answer, empty_output: dict) -> str:
    """Apply answer(record) -> output dict to every line; a line's failure is its error,
    with `empty_output` as its output, as AWS writes failed lines."""
    out = []
    for record, raw, error in input_records(data):
        output = None
        if error is None:
            try:
                output = answer(record)
            except ServiceError as failure:
                error = failure.message
            except Exception:   # a bug of ours fails this line, not the whole job
                log.exception("batch input line %r", raw[:200])
                error = "This line could not be processed because of an internal error."
        out.append(json.dumps({"input": record if record is not None else raw,
                               "output": output if error is None else empty_output,
                               "error": error}))
    return "\n".join(out) + ("\n" if out else "")


def record_id(record: dict, key: str, recipe_type: str) -> str:
    """userId / itemId of an input line: a non-empty string (or a whole number) of at most
    256 characters, as GetRecommendations requires."""
    value = record.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputException(
            f"Each input line needs {key} (a string) for a {recipe_type} solution version.")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidInputException(f"{key} can have at most {MAX_ID_LENGTH} characters.")
    return value


def _filter_values(record: dict) -> dict | None:
    values = record.get("filterValues")
    if values is not None and not (isinstance(values, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in values.items())):
        raise InvalidInputException("filterValues must be an object of strings.")
    return values


def run_batch_inference(backend, job_arn: str) -> None:
    run_job(backend, kinds.BATCH_INFERENCE_JOB, job_arn,
            lambda job: _inference(backend, job))


def _inference(backend, job: dict) -> None:
    version = backend.registry.get(kinds.SOLUTION_VERSION, job["solutionVersionArn"])
    config = {"itemExplorationConfig": (job.get("batchInferenceJobConfig") or {})
              .get("itemExplorationConfig") or {}}
    runtime = VersionRuntime(backend, version, config)
    recipe_type = runtime._recipe_type(version["recipeArn"])
    s3 = backend.s3_client(job["batchInferenceJobArn"])
    data = read_bytes(s3, job["jobInput"]["s3DataSource"]["path"])

    def answer(record: dict) -> dict:
        common = {"filterArn": job.get("filterArn"), "filterValues": _filter_values(record)}
        if recipe_type == "PERSONALIZED_RANKING":
            items = record.get("itemList")
            if not isinstance(items, list) or not all(
                    isinstance(i, (str, int)) and not isinstance(i, bool) for i in items):
                raise InvalidInputException(
                    "Each input line needs userId and itemList (a list of item ids) for a "
                    "PERSONALIZED_RANKING solution version.")
            result = runtime.get_personalized_ranking(
                None, campaignArn=None, inputList=[str(i) for i in items],
                userId=record_id(record, "userId", recipe_type), **common
            )["personalizedRanking"]
        else:
            key = "itemId" if recipe_type == "RELATED_ITEMS" else "userId"
            result = runtime.get_recommendations(
                None, numResults=job["numResults"],
                **{key: record_id(record, key, recipe_type)}, **common)["itemList"]
        return {"recommendedItems": [r["itemId"] for r in result],
                "scores": [round(float(r["score"]), 7) for r in result]}

    write_text(s3, output_path(job), answer_lines(data, answer, {"recommendedItems": []}))


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
    s3 = backend.s3_client(job["batchSegmentJobArn"])
    data = read_bytes(s3, job["jobInput"]["s3DataSource"]["path"])
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
            found = position.get(record_id(record, "itemId", ITEM_AFFINITY))
            if found is None:
                raise InvalidInputException(f"Item {record['itemId']} is not in the model.")
            columns = np.array([found])
        if len(columns) == 0 or not users:
            return {"usersList": []}
        scores = affinity[:, columns].mean(axis=1)
        order = np.argsort(-scores, kind="stable")[:job["numResults"]]
        return {"usersList": [users[i] for i in order]}

    write_text(s3, output_path(job), answer_lines(data, answer, {"usersList": []}))


# The batch jobs that score with the models: they draw threads from the core scheduler.
SCORING_JOBS = (run_batch_inference, run_batch_segment)


def _all_scores(model, user: str, history: list[str]):
    """A user's score for every item: rank when the model can, else its full top list."""
    try:
        return model.rank(user, history, list(model.item_ids))
    except NotImplementedError:
        return model.recommend(user, history, len(model.item_ids), exploration_weight=0.0)


def _attribute_mask(runtime, version, deployed, record) -> np.ndarray:
    """itemAttributes ('ITEMS.genres = "Comedy"') selects items with the filter language."""
    expression = record.get("itemAttributes")
    if not isinstance(expression, str) or not expression.strip():
        raise InvalidInputException(f"Each input line needs itemAttributes for "
                                    f"{ITEM_ATTRIBUTE_AFFINITY}.")
    from chalicelib.filters import parse_filter
    # AWS's queries match a value with '=' (ITEMS.genres = "Comedy" AND ...); in the filter
    # language that is IN ("Comedy"), which matches a value of a multi-value field too.
    expression = _ATTRIBUTE_EQUALS.sub(r"\1 IN (\2)", expression)
    flt = parse_filter(f"INCLUDE ItemID WHERE {expression}")
    return runtime._catalog(version, deployed).mask(flt, {})


_ATTRIBUTE_EQUALS = re.compile(r'(ITEMS\.\w+)\s*=\s*("(?:[^"\\]|\\.)*")', re.IGNORECASE)
