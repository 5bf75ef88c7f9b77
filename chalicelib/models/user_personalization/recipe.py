"""The recipes: FULL training (features, windows, held-out events, Trainer) and UPDATE (new
items from their metadata neighbours, fresh statistics, the sequence model untouched).
aws-user-personalization runs a GRU, aws-user-personalization-v2 causal self-attention;
everything else is shared."""
from __future__ import annotations

import time

import numpy as np
import torch

from chalicelib import task_log
from chalicelib.models.data import TrainingData
from chalicelib.models.exploration import compute_item_statistics
from chalicelib.models.item_features import (fit_feature_spec,
                                               distinct_rows, item_feature_matrix,
                                               nearest_neighbours)
from chalicelib.models.objective import parse_objective
from chalicelib.models.base import Log, Model, Recipe, _quiet
from chalicelib.models.base import known_item_ids
from chalicelib.models.user_personalization.context import fit_context_spec
from chalicelib.models.user_personalization.model import (NAME, NAME_V2,
                                                                    UserPersonalizationModel)
from chalicelib.models.user_personalization.network import (GRU, TRANSFORMER,
                                                                      ItemVectorNetwork,
                                                                      build_network)
from chalicelib.models.user_personalization.sequences import (WindowBuilder,
                                                                        impression_negatives,
                                                                        kept_users)
from chalicelib.models.user_personalization.settings import (
    DEFAULT_HYPERPARAMETERS, V2_DEFAULT_HYPERPARAMETERS, TrainingSettings)
from chalicelib.models.user_personalization.trainer import Trainer
from chalicelib.models.user_personalization.validation import hold_out_latest_events

NEIGHBOURS = 10  # metadata neighbours averaged to initialise a new item's ID embedding
CHUNK = 1 << 20  # cold rows written per block


def initialise_cold_rows(network: ItemVectorNetwork, features: torch.Tensor,
                         warm: np.ndarray, cold: np.ndarray, popularity: np.ndarray) -> None:
    """ID embedding and bias of cold items = mean over their NEIGHBOURS nearest warm items
    in metadata space (the most popular warm items when there is no metadata to compare).
    Cold items with equal metadata rows get equal values, so the neighbours and their mean
    are computed once per distinct row (a synthetic 10M-item catalogue of one categorical
    field has eight) and written a block at a time: per item, the [items, NEIGHBOURS, d]
    gather would be 60 GB at 10M items."""
    if len(cold) == 0 or len(warm) == 0:
        return
    feats = features.numpy()
    count = min(NEIGHBOURS, len(warm))
    popular = warm[np.argsort(-popularity[warm], kind="stable")[:count]]
    has_metadata = feats[cold, 0] > 0
    neighbour_sets = [popular]                  # set 0: cold items without metadata
    set_of = np.zeros(len(cold), dtype=np.int64)
    described = warm[feats[warm, 0] > 0]
    if has_metadata.any() and len(described):
        representatives, inverse = distinct_rows(feats, cold[has_metadata])
        near = nearest_neighbours(feats[described], feats[representatives], count)
        if near.shape[1] == count:
            neighbour_sets += list(described[near])
            set_of[has_metadata] = 1 + inverse
    with torch.no_grad():
        embedding = network.item_embedding.weight
        bias = network.item_bias.weight
        sets = torch.from_numpy(np.stack(neighbour_sets))
        means, bias_means = embedding[sets].mean(1), bias[sets].mean(1)
        for start in range(0, len(cold), CHUNK):
            rows = torch.from_numpy(cold[start:start + CHUNK])
            which = torch.from_numpy(set_of[start:start + CHUNK])
            embedding[rows] = means[which]
            bias[rows] = bias_means[which]


class UserPersonalizationRecipe(Recipe):
    name = NAME
    recipe_type = "USER_PERSONALIZATION"
    default_hyperparameters = dict(DEFAULT_HYPERPARAMETERS)
    model_class = UserPersonalizationModel
    sequence_model = GRU

    def train(self, data: TrainingData, hyperparameters: dict[str, str], seed: int = 0,
              log: Log = _quiet) -> UserPersonalizationModel:
        settings = TrainingSettings.parse(hyperparameters, self.default_hyperparameters,
                                  self.sequence_model)
        task_log.phase("featurising")
        torch.manual_seed(seed)
        item_ids = known_item_ids(data)
        index = {item: row for row, item in enumerate(item_ids)}
        spec = fit_feature_spec(data.items)
        features = torch.from_numpy(item_feature_matrix(spec, data.items, item_ids))
        table = data.interactions
        users = np.asarray(table.columns["USER_ID"], dtype=object).astype(str)
        rows = np.array([index[str(i)] for i in table.columns["ITEM_ID"]], dtype=np.int64)
        stamps = np.asarray(table.columns["TIMESTAMP"], dtype=np.float64)
        hard = impression_negatives(table, index, settings.max_impression_negatives)
        context = fit_context_spec(table)
        contexts = context.encode_table(table) if context else None
        if context:
            log(f"context fields: {', '.join(context.fields)}")
        counts = np.bincount(rows, minlength=len(item_ids)).astype(np.float64)
        network = build_network(settings, len(item_ids), features.shape[1], context.sizes)
        with torch.no_grad():  # start the bias at log popularity: faster, steadier start
            network.item_bias.weight[:, 0] = torch.from_numpy(
                np.log(counts + 1.0) - np.log(counts + 1.0).mean()).float()
        if len(rows):
            _, user_codes = np.unique(users, return_inverse=True)
            keep = kept_users(user_codes, settings)
            if settings.early_stopping_patience:
                training, held_out = hold_out_latest_events(
                    user_codes[keep], rows[keep], stamps[keep], settings.validation_users,
                    settings.bptt, seed, None if contexts is None else contexts[keep])
                keep[np.flatnonzero(keep)[~training]] = False
            else:
                held_out = None
            builder = WindowBuilder(user_codes[keep], rows[keep], stamps[keep], hard[keep],
                                    settings, None if contexts is None else contexts[keep])
            if builder.has_targets():
                summary = Trainer(network, features, counts, settings, seed, log).fit(
                    builder, held_out)
                log(f"trained {summary['steps']} steps in {summary['epochs_run']} epochs "
                    f"(kept epoch {summary['best_epoch']}), "
                    f"{summary['events_per_second']:.0f} events/s")
        stats = compute_item_statistics(index, table, data.items,
                                        settings.popularity_half_life_days)
        initialise_cold_rows(network, features, np.flatnonzero(counts > 0),
                             np.flatnonzero(counts == 0), stats.popularity)
        objective = parse_objective(hyperparameters)
        return UserPersonalizationModel(
            item_ids, network, features, stats, spec, settings, self.name, context, objective,
            objective.boost(data.items, item_ids) if objective else None)

    def update(self, model: Model, data: TrainingData, log: Log = _quiet) -> Model:
        """Add new items (ID rows from metadata neighbours), refresh statistics; the sequence
        model (GRU or attention), W and the existing item rows stay exactly as trained."""
        assert isinstance(model, UserPersonalizationModel)
        new_ids = [i for i in known_item_ids(data) if i not in model.index]
        item_ids = model.item_ids + new_ids
        index = {item: row for row, item in enumerate(item_ids)}
        old_size, settings = len(model.item_ids), model.settings
        network = build_network(settings, len(item_ids), model.features.shape[1],
                                model.context.sizes)
        state = {k: v.detach().clone() for k, v in model.network.state_dict().items()}
        features = model.features
        if new_ids:
            new_features = torch.from_numpy(item_feature_matrix(model.spec, data.items, new_ids))
            features = torch.cat([model.features, new_features])
            for key in ("item_embedding.weight", "item_bias.weight"):
                old = state[key]
                state[key] = torch.cat([old, torch.zeros(len(new_ids), old.shape[1])])
        network.load_state_dict(state)
        stats = compute_item_statistics(index, data.interactions, data.items,
                                        settings.popularity_half_life_days, model.stats)
        if new_ids:
            # items first seen now, with no timestamp of their own, are new as of now
            fresh = np.isnan(stats.first_seen[old_size:])
            stats.first_seen[old_size:][fresh] = time.time()
            initialise_cold_rows(network, features, np.arange(old_size),
                                 np.arange(old_size, len(item_ids)), stats.popularity)
        log(f"update: {len(new_ids)} new items, {len(item_ids)} in all; "
            f"{settings.sequence_model} unchanged")
        objective = model.objective   # attribute values may have changed (PutItems)
        return UserPersonalizationModel(
            item_ids, network, features, stats, model.spec, settings, model.recipe_name,
            model.context, objective, objective.boost(data.items, item_ids) if objective else None)


class UserPersonalizationV2Recipe(UserPersonalizationRecipe):
    """aws-user-personalization-v2: the same recipe with causal self-attention over the
    user's z sequence instead of the GRU, and its own defaults."""
    name = NAME_V2
    default_hyperparameters = dict(V2_DEFAULT_HYPERPARAMETERS)
    sequence_model = TRANSFORMER


RECIPE = UserPersonalizationRecipe()
RECIPE_V2 = UserPersonalizationV2Recipe()
# the registry's lookup by recipe name (other names served by this module get RECIPE)
RECIPES = {NAME: RECIPE, NAME_V2: RECIPE_V2}
