"""Hyperparameter optimisation (performHPO + hpoConfig) and recipe selection (performAutoML
+ autoMLConfig), run inside the training task.

HPO is a real search with optuna's TPE sampler: each trial trains the recipe on the
version's training set and scores it on its test users (chalicelib.training.evaluation:
train_and_score on the task's split) with values drawn from the hpoConfig ranges;
maxNumberOfTrainingJobs is the number of trials; the objective is the hpoObjective metric.
AutoML trains and scores each recipe of autoMLConfig.recipeList with its defaults and keeps
the best by autoMLConfig.metricName. The best trial's model is the version's model: it is
kept, not trained again. Trials run one after another inside the version's task, on the
threads the task was granted (chalicelib/training/cores.py).
"""
from __future__ import annotations

import logging
from typing import Callable

from chalicelib.errors import JobFailure
from chalicelib.training import task_log
from chalicelib.training.recipes import get_recipe, implemented_recipes, recipe_name

logger = logging.getLogger(__name__)

DEFAULT_METRIC = "normalized_discounted_cumulative_gain_at_25"
DEFAULT_TRIALS = 4        # AWS allows up to 40; each trial is a full training here
MAX_TRIALS = 40
DEFAULT_AUTOML_RECIPES = ("arn:aws:personalize:::recipe/aws-user-personalization",
                          "arn:aws:personalize:::recipe/aws-popularity-count")
# train_and_score(recipe, split, hyperparameters, seed=, log=) -> Evaluation (.model, .metrics)
TrainAndScore = Callable[..., object]


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


def _better(score: float, best: float | None, direction: str) -> bool:
    if best is None:
        return True
    return score < best if direction == "minimize" else score > best


def tune(recipe, split, params: dict[str, str], hpo_config: dict,
         train_and_score: TrainAndScore, seed: int = 0, log=logger.info):
    """The best hyperparameters found and their Evaluation (model and metrics). Only the
    best model so far is held: a large catalogue's model takes hundreds of megabytes."""
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

    best: dict = {"score": None}

    def objective(trial):
        values = {**params, **{n: _suggest(trial, n, k, s) for n, k, s in space}}
        log(f"HPO trial {trial.number + 1}/{trials}: training with {values}")
        task_log.context(trial=f"{trial.number + 1}/{trials}")
        evaluation = train_and_score(recipe, split, values, seed=seed, log=log)
        score = _metric(evaluation.metrics, metric)
        log(f"HPO trial {trial.number + 1}/{trials}: {metric}={score:.4f}")
        if _better(score, best["score"], direction):
            best.update(score=score, params=values, evaluation=evaluation)
        return score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=direction,
                                sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials, catch=())
    task_log.context(trial=None)
    return best["params"], best["evaluation"]


def choose_recipe(automl_config: dict, split, params_for: Callable[[str], dict],
                  train_and_score: TrainAndScore, seed: int = 0, log=logger.info):
    """(best recipe, its hyperparameters, its Evaluation) among autoMLConfig.recipeList."""
    metric = automl_config.get("metricName") or DEFAULT_METRIC
    candidates = automl_config.get("recipeList") or list(DEFAULT_AUTOML_RECIPES)
    unknown = [arn for arn in candidates if recipe_name(arn) not in implemented_recipes()]
    if unknown:
        raise HPOConfigError(f"autoMLConfig.recipeList names recipes not available here: "
                             f"{', '.join(unknown)}.")
    best = None
    for number, arn in enumerate(candidates, start=1):
        recipe, params = get_recipe(arn), params_for(arn)
        log(f"AutoML {number}/{len(candidates)}: training {recipe.name}")
        task_log.context(candidate=f"{number}/{len(candidates)}")
        evaluation = train_and_score(recipe, split, params, seed=seed, log=log)
        score = _metric(evaluation.metrics, metric)
        log(f"AutoML {number}/{len(candidates)}: {recipe.name} {metric}={score:.4f}")
        if best is None or score > best[0]:
            best = (score, recipe, params, evaluation)
    task_log.context(candidate=None)
    return best[1], best[2], best[3]


def tune_version(version: dict, recipe, split, params: dict[str, str],
                 train_and_score: TrainAndScore, params_for: Callable[[str], dict],
                 log=logger.info):
    """What the training task keeps: (recipe, hyperparameters, Evaluation). AutoML picks the
    recipe first, then HPO tunes it; with neither, one training with the given values."""
    config = version.get("solutionConfig") or {}
    evaluation = None
    if version.get("performAutoML"):
        recipe, params, evaluation = choose_recipe(config.get("autoMLConfig") or {}, split,
                                                   params_for, train_and_score, log=log)
    if version.get("performHPO"):
        params, evaluation = tune(recipe, split, params, config.get("hpoConfig") or {},
                                  train_and_score, log=log)
    if evaluation is None:
        evaluation = train_and_score(recipe, split, params, seed=0, log=log)
    return recipe, params, evaluation


def record_automl(registry, version: dict, recipe) -> None:
    """DescribeSolution's autoMLResult: the recipe AutoML chose."""
    from chalicelib.errors import ResourceNotFoundException
    from chalicelib.resources import kinds
    if not version.get("performAutoML"):
        return
    try:
        registry.update(kinds.SOLUTION, version["solutionArn"],
                        lambda s: s.update(autoMLResult={"bestRecipeArn": recipe.arn}))
    except ResourceNotFoundException:
        pass
