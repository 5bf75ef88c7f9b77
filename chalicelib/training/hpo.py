"""Hyperparameter optimisation (performHPO + hpoConfig) and recipe selection (performAutoML
+ autoMLConfig), run inside the training task.

HPO is a real search with optuna's TPE sampler: each trial trains and evaluates the recipe
on the temporal split (chalicelib.training.evaluation.evaluate) with values drawn from the
hpoConfig ranges; maxNumberOfTrainingJobs is the number of trials; the objective is the
hpoObjective metric. AutoML evaluates each recipe of autoMLConfig.recipeList with its
defaults and keeps the best by autoMLConfig.metricName.
"""
from __future__ import annotations

import logging
from typing import Callable

from chalicelib.errors import JobFailure, ResourceNotFoundException
from chalicelib.models import get_recipe, implemented_recipes, recipe_name
from chalicelib.records import kinds

log = logging.getLogger(__name__)

DEFAULT_METRIC = "normalized_discounted_cumulative_gain_at_25"
DEFAULT_TRIALS = 4        # AWS allows up to 40; each trial is a full training here
MAX_TRIALS = 40
DEFAULT_AUTOML_RECIPES = ("arn:aws:personalize:::recipe/aws-user-personalization",
                          "arn:aws:personalize:::recipe/aws-popularity-count")
Evaluate = Callable[..., dict]


class HPOConfigError(JobFailure, ValueError):
    """An hpoConfig or autoMLConfig the search cannot run with (the version fails)."""


def _metric(metrics: dict, name: str) -> float:
    if name not in metrics:
        raise HPOConfigError(f"Unknown objective metric {name!r}; the metrics are "
                             f"{', '.join(sorted(metrics))}.")
    return float(metrics[name])


def search_space(ranges: dict) -> list[tuple[str, str, object]]:
    """(name, kind, spec) per hyperparameter of algorithmHyperParameterRanges."""
    space = []
    for item in ranges.get("integerHyperParameterRanges") or []:
        low, high = item.get("minValue", 0), item.get("maxValue", 0)
        if low > high:
            raise HPOConfigError(f"{item['name']}: minValue {low} > maxValue {high}.")
        space.append((item["name"], "integer", (low, high)))
    for item in ranges.get("continuousHyperParameterRanges") or []:
        low, high = item.get("minValue", 0.0), item.get("maxValue", 0.0)
        if low > high:
            raise HPOConfigError(f"{item['name']}: minValue {low} > maxValue {high}.")
        space.append((item["name"], "continuous", (low, high)))
    for item in ranges.get("categoricalHyperParameterRanges") or []:
        if not item.get("values"):
            raise HPOConfigError(f"{item['name']}: a categorical range needs values.")
        space.append((item["name"], "categorical", list(item["values"])))
    names = [name for name, _, _ in space]
    if len(set(names)) != len(names):
        raise HPOConfigError("A hyperparameter appears in more than one range.")
    return space


def _suggest(trial, name: str, kind: str, spec) -> str:
    """Personalize hyperparameters are strings."""
    if kind == "integer":
        return str(trial.suggest_int(name, *spec))
    if kind == "continuous":
        return repr(trial.suggest_float(name, *spec))
    return str(trial.suggest_categorical(name, spec))


def tune(recipe, data, params: dict[str, str], hpo_config: dict, evaluate: Evaluate,
         seed: int = 0) -> tuple[dict[str, str], dict]:
    """The best hyperparameters found and their metrics."""
    import optuna
    objective_config = hpo_config.get("hpoObjective") or {}
    metric = objective_config.get("metricName") or DEFAULT_METRIC
    direction = "minimize" if objective_config.get("type") == "Minimize" else "maximize"
    space = search_space(hpo_config.get("algorithmHyperParameterRanges") or {})
    resources = hpo_config.get("hpoResourceConfig") or {}
    try:
        trials = int(resources.get("maxNumberOfTrainingJobs") or DEFAULT_TRIALS)
    except ValueError:
        raise HPOConfigError("maxNumberOfTrainingJobs must be an integer.") from None
    if not 1 <= trials <= MAX_TRIALS:
        raise HPOConfigError(f"maxNumberOfTrainingJobs must be between 1 and {MAX_TRIALS}.")
    if not space:   # nothing to search: one evaluation with the given values
        trials = 1

    def objective(trial):
        values = {**params, **{n: _suggest(trial, n, k, s) for n, k, s in space}}
        metrics = evaluate(recipe, data, values, seed=seed)
        trial.set_user_attr("params", values)
        trial.set_user_attr("metrics", metrics)
        score = _metric(metrics, metric)
        log.info("HPO trial %d: %s=%.4f with %s", trial.number, metric, score, values)
        return score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=direction,
                                sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials, catch=())
    best = study.best_trial
    return best.user_attrs["params"], best.user_attrs["metrics"]


def choose_recipe(automl_config: dict, data, params_for: Callable[[str], dict],
                  evaluate: Evaluate, seed: int = 0):
    """(best recipe, its hyperparameters, its metrics) among autoMLConfig.recipeList."""
    metric = automl_config.get("metricName") or DEFAULT_METRIC
    candidates = automl_config.get("recipeList") or list(DEFAULT_AUTOML_RECIPES)
    unknown = [arn for arn in candidates if recipe_name(arn) not in implemented_recipes()]
    if unknown:
        raise HPOConfigError(f"autoMLConfig.recipeList names recipes not available here: "
                             f"{', '.join(unknown)}.")
    best = None
    for arn in candidates:
        recipe, params = get_recipe(arn), params_for(arn)
        metrics = evaluate(recipe, data, params, seed=seed)
        score = _metric(metrics, metric)
        log.info("AutoML: %s %s=%.4f", arn, metric, score)
        if best is None or score > best[0]:
            best = (score, recipe, params, metrics)
    return best[1], best[2], best[3]


def tune_version(version: dict, recipe, data, params: dict[str, str], evaluate: Evaluate,
                 params_for: Callable[[str], dict]):
    """What the training task trains: (recipe, hyperparameters, metrics). AutoML picks the
    recipe first, then HPO tunes it; with neither, the metrics of the given values."""
    config = version.get("solutionConfig") or {}
    metrics = None
    if version.get("performAutoML"):
        recipe, params, metrics = choose_recipe(config.get("autoMLConfig") or {}, data,
                                                params_for, evaluate)
    if version.get("performHPO"):
        params, metrics = tune(recipe, data, params, config.get("hpoConfig") or {},
                               evaluate)
    if metrics is None:
        metrics = evaluate(recipe, data, params, seed=0)
    return recipe, params, metrics


def record_automl(registry, version: dict, recipe) -> None:
    """DescribeSolution's autoMLResult: the recipe AutoML chose."""
    if not version.get("performAutoML"):
        return
    try:
        registry.update(kinds.SOLUTION, version["solutionArn"],
                        lambda s: s.update(autoMLResult={"bestRecipeArn": recipe.arn}))
    except ResourceNotFoundException:
        pass
