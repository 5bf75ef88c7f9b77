"""solutionConfig checked at CreateSolution, as AWS checks it: every algorithm and
featurization hyperparameter against its documented type and range, the hpoConfig ranges
against what each hyperparameter allows, the HPO job counts and objective, the AutoML
recipes and metric, and eventValueThreshold. A
bad value is InvalidInputException naming the parameter and what it may be, before any
training starts (so a version never fails later on 'abc', '1e12' or 'nan', and '-1' is
refused rather than clamped).

Ranges come from the recipe's algorithm in the catalogue (DescribeAlgorithm's
defaultHyperParameterRanges) where it lists them, else from the recipe pages of AWS's
developer guide. This implementation's own training knobs (epochs, learning_rate, ...)
are checked the same way. Names no recipe knows are passed through untouched.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from chalicelib.errors import InvalidInputException
from chalicelib.models import get_recipe, implemented_recipes, recipe_name
from chalicelib.records.recipe_catalogue import default_hyperparameters, recipe_ranges
from chalicelib.strict_json import printable
from chalicelib.training.evaluation import PERSONALIZE_METRICS

_INTEGER = re.compile(r"[+-]?\d{1,18}")
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(minute|min|hour|day)s?\s*", re.IGNORECASE)
MAX_HPO_TRAINING_JOBS, MAX_HPO_PARALLEL_JOBS = 40, 10


@dataclass(frozen=True)
class Rule:
    """What one hyperparameter's string value may be."""
    kind: str                      # integer | continuous | categorical | boolean | duration
    low: float | None = None
    high: float | None = None
    values: tuple[str, ...] = ()   # categorical values, or words allowed beside a number
    tunable: bool = True

    def allowed(self) -> str:
        if self.kind == "integer":
            words = f" or {' / '.join(self.values)}" if self.values else ""
            return f"an integer from {_number(self.low)} to {_number(self.high)}{words}"
        if self.kind == "continuous":
            return f"a number from {_number(self.low)} to {_number(self.high)}"
        if self.kind == "boolean":
            return "true or false"
        if self.kind == "duration":
            return "a period such as '30 minutes', '1 hour', '3 hours' or '1 day'"
        return "one of " + ", ".join(self.values)

    def accepts(self, text: str) -> bool:
        text = text.strip()
        if self.kind == "integer":
            if text.lower() in self.values:
                return True
            return bool(_INTEGER.fullmatch(text)) and self.low <= int(text) <= self.high
        if self.kind == "continuous":
            number = _float(text)
            return number is not None and self.low <= number <= self.high
        if self.kind == "boolean":
            return text.lower() in ("true", "false")
        if self.kind == "duration":
            match = _DURATION.fullmatch(text)
            return bool(match) and 0 < float(match.group(1)) <= 10_000
        return text in self.values


def integer(low, high, *words, tunable=True) -> Rule:
    return Rule("integer", low, high, words, tunable)


def continuous(low, high, tunable=True) -> Rule:
    return Rule("continuous", low, high, (), tunable)


BOOLEAN = Rule("boolean", values=("true", "false"))
PERCENTILE = continuous(0.0, 1.0, tunable=False)

# The developer guide's recipe pages; the same name means the same thing in every recipe.
DOCUMENTED = {
    "hidden_dimension": integer(32, 256),
    "bptt": integer(2, 32),
    "recency_mask": BOOLEAN,
    "apply_recency_bias": BOOLEAN,
    "min_user_history_length_percentile": PERCENTILE,
    "max_user_history_length_percentile": PERCENTILE,
    "min_item_interaction_count_percentile": PERCENTILE,
    "max_item_interaction_count_percentile": PERCENTILE,
    "popularity_discount_factor": continuous(0.0, 1.0),
    "min_cointeraction_count": integer(0, 10),
    "item_id_hidden_dim": integer(30, 200),
    "item_metadata_hidden_dim": integer(30, 200),
    "trend_discovery_frequency": Rule("duration", tunable=False),
    # AWS documents the default (14 days); a year is our bound.
    "action_optimization_period": integer(1, 365, tunable=False),
}
# This implementation's training knobs (chalicelib/models/*): not AWS's names.
KNOBS = {
    "epochs": integer(1, 1000),
    "learning_rate": continuous(1e-7, 10.0),
    "batch_size": integer(1, 65536),
    "num_negatives": integer(0, 1_000_000, "auto"),
    "softmax": Rule("categorical", values=("auto", "full", "sampled"), tunable=False),
    "negative_sampling_power": continuous(0.0, 1.0),
    "id_dropout": continuous(0.0, 0.95),
    "dropout": continuous(0.0, 0.9),
    "context_dropout": continuous(0.0, 1.0),
    "shift_windows": BOOLEAN,
    "max_impression_negatives": integer(0, 1000),
    "popularity_half_life_days": continuous(0.0, 36500.0),
    "max_steps": integer(0, 10**9, tunable=False),
    "log_every_steps": integer(1, 10**9, tunable=False),
    "neighbours": integer(1, 10_000),
    "early_stopping_patience": integer(0, 1000),
    "early_stopping_metric": Rule("categorical", values=("cross-entropy", "ndcg@10"),
                                  tunable=False),
    "validation_users": integer(0, 10**7),
    "num_blocks": integer(1, 24),
    "num_heads": integer(1, 64),
    "metadata_weight": continuous(0.0, 1.0),
}


def rules_for(recipe_arn: str) -> dict[str, Rule | None]:
    """name -> Rule (None: no documented rule) for each hyperparameter the recipe knows:
    its catalogue defaults and ranges and its implementation's defaults. The catalogue's
    ranges override the guide's table: they are what DescribeAlgorithm shows."""
    names = set(default_hyperparameters(recipe_arn))
    try:
        names |= set(get_recipe(recipe_arn).default_hyperparameters)
    except KeyError:
        pass
    rules = {name: DOCUMENTED.get(name) or KNOBS.get(name) for name in names}
    ranges = recipe_ranges(recipe_arn)
    for item in ranges.get("integerHyperParameterRanges", []):
        rules[item["name"]] = integer(item["minValue"], item["maxValue"],
                                      tunable=item.get("isTunable", True))
    for item in ranges.get("continuousHyperParameterRanges", []):
        rules[item["name"]] = continuous(item["minValue"], item["maxValue"],
                                         tunable=item.get("isTunable", True))
    for item in ranges.get("categoricalHyperParameterRanges", []):
        values = tuple(item["values"])
        kind = "boolean" if set(values) == {"true", "false"} else "categorical"
        rules[item["name"]] = Rule(kind, values=values, tunable=item.get("isTunable", True))
    return rules


def check_solution_config(recipe_arn: str, config: dict | None,
                          perform_hpo: bool = False) -> None:
    """InvalidInputException for the first value AWS would refuse."""
    config = config or {}
    rules = rules_for(recipe_arn)
    for member in ("algorithmHyperParameters", "featureTransformationParameters"):
        for name, value in (config.get(member) or {}).items():
            rule = rules.get(name)
            if rule is not None and not rule.accepts(value):
                raise InvalidInputException(
                    f"Invalid {member} value for {name}: {_shown(value)}. {name} must be "
                    f"{rule.allowed()}.")
    threshold = config.get("eventValueThreshold")
    if threshold is not None and _float(threshold) is None:
        raise InvalidInputException(
            f"Invalid eventValueThreshold {_shown(threshold)}: it must be a finite number.")
    if perform_hpo or config.get("hpoConfig"):
        _check_hpo(recipe_arn, rules, config.get("hpoConfig") or {})
    automl = config.get("autoMLConfig") or {}
    _check_metric("autoMLConfig", automl.get("metricName"))
    unknown = [arn for arn in automl.get("recipeList") or []
               if recipe_name(arn) not in implemented_recipes()]
    if unknown:
        raise InvalidInputException(
            f"Invalid autoMLConfig.recipeList: {', '.join(unknown)} "
            f"{'is not a recipe' if len(unknown) == 1 else 'are not recipes'} available here.")


def _check_metric(member: str, name: str | None) -> None:
    if name is not None and name not in PERSONALIZE_METRICS:
        raise InvalidInputException(
            f"Invalid {member}.metricName {_shown(name)}: it must be one of "
            f"{', '.join(PERSONALIZE_METRICS)}.")


def _check_hpo(recipe_arn: str, rules: dict[str, Rule], hpo: dict) -> None:
    objective = hpo.get("hpoObjective") or {}
    _check_metric("hpoConfig.hpoObjective", objective.get("metricName"))
    if objective.get("type") not in (None, "Maximize", "Minimize"):
        raise InvalidInputException(
            f"Invalid hpoConfig.hpoObjective.type {_shown(objective['type'])}: it must be "
            "Maximize or Minimize.")
    resources = hpo.get("hpoResourceConfig") or {}
    for member, most in (("maxNumberOfTrainingJobs", MAX_HPO_TRAINING_JOBS),
                         ("maxParallelTrainingJobs", MAX_HPO_PARALLEL_JOBS)):
        value = resources.get(member)
        if value is not None and not integer(1, most).accepts(value):
            raise InvalidInputException(
                f"Invalid hpoResourceConfig.{member} {_shown(value)}: it must be an integer "
                f"from 1 to {most}.")
    ranges = hpo.get("algorithmHyperParameterRanges") or {}
    named = []
    for member, kind in (("integerHyperParameterRanges", "integer"),
                         ("continuousHyperParameterRanges", "continuous"),
                         ("categoricalHyperParameterRanges", "categorical")):
        for item in ranges.get(member) or []:
            name = item.get("name")
            rule = rules.get(name)
            if rule is None or not rule.tunable:
                tunable = sorted(n for n, r in rules.items() if r is not None and r.tunable)
                raise InvalidInputException(
                    f"Invalid hpoConfig: {name} is not a tunable hyperparameter of "
                    f"{recipe_arn} (tunable: {', '.join(tunable) or 'none'}).")
            _check_range(name, kind, item, rule)
            named.append(name)
    repeated = sorted({n for n in named if named.count(n) > 1})
    if repeated:
        raise InvalidInputException(
            f"Invalid hpoConfig: {', '.join(repeated)} appears in more than one range.")


def _check_range(name: str, kind: str, item: dict, rule: Rule) -> None:
    if kind == "categorical":
        values = item.get("values") or []
        bad = [v for v in values if not rule.accepts(v)]
        if not values or bad:
            raise InvalidInputException(
                f"Invalid hpoConfig categorical range for {name}: "
                f"{_shown(bad[0]) if bad else 'no values'}; each value must be "
                f"{rule.allowed()}.")
        return
    if rule.kind != kind:
        raise InvalidInputException(
            f"Invalid hpoConfig: {name} takes {rule.allowed()}; give it a "
            f"{'categorical' if rule.kind in ('boolean', 'categorical') else rule.kind} "
            f"range, not a {kind} one.")
    low, high = item.get("minValue"), item.get("maxValue")
    if low is None or high is None:
        raise InvalidInputException(
            f"Invalid hpoConfig {kind} range for {name}: minValue and maxValue are required.")
    if not (rule.low <= low <= high <= rule.high):
        raise InvalidInputException(
            f"Invalid hpoConfig {kind} range for {name}: [{_number(low)}, {_number(high)}]; "
            f"minValue must not exceed maxValue and both must lie within "
            f"[{_number(rule.low)}, {_number(rule.high)}].")


def _float(text) -> float | None:
    """A finite number written as decimal text ('nan', 'inf' and '1_0' are not)."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and "_" not in str(text) else None


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _shown(value) -> str:
    text = printable(str(value))
    return repr(text if len(text) <= 40 else text[:37] + "...")
