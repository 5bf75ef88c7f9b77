"""The model cache: loaded models kept out of the cyclic collector's generations, and the
serving thread pools."""
import gc
import json

from chalicelib.serving.heap import settle_long_lived
from chalicelib.serving.model_cache import ModelCache
from chalicelib.deployment import HISTORY_FILE
from chalicelib.models import save_model
from tests.training.test_user_personalization import FAST, sequential_data


class Artifacts:
    def __init__(self, root):
        self.root = root

    def model_dir(self, arn):
        return self.root / arn.rsplit("/", 1)[-1]


def tracked(obj) -> bool:
    return any(o is obj for o in gc.get_objects())


def test_settle_moves_what_is_alive_to_the_permanent_generation():
    big = [str(i) for i in range(1000)]
    assert tracked(big)
    try:
        settle_long_lived()
        assert not tracked(big) and gc.get_freeze_count() > 0
        garbage = []
        garbage.append(garbage)   # a cycle made after the freeze is still collected
        del garbage
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()


def test_a_loaded_model_is_frozen(tmp_path):
    from chalicelib.models import get_recipe
    model = get_recipe("aws-user-personalization").train(sequential_data(), FAST, seed=1)
    directory = tmp_path / "v1"
    save_model(model, directory)
    (directory / HISTORY_FILE).write_text(json.dumps({"u": ["i1"]}))
    cache = ModelCache(Artifacts(tmp_path))
    try:
        deployed = cache.get({"solutionVersionArn": "arn:x/v1"})
        assert not tracked(deployed.model.item_ids)
    finally:
        gc.unfreeze()


def test_serving_threads_size_torch_and_blas_pools(tmp_path):
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits
    saved_torch = torch.get_num_threads()
    with threadpool_limits(None):   # restores numpy's BLAS pool afterwards
        cache = ModelCache(Artifacts(tmp_path), threads=1)
        cache._size_thread_pools()
        blas = [pool["num_threads"] for pool in threadpool_info()
                if pool["user_api"] == "blas"]
        assert blas and set(blas) == {1}
        assert torch.get_num_threads() == 1
    torch.set_num_threads(saved_torch)
