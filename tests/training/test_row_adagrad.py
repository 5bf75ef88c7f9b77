"""Row-wise Adagrad: the item tables' optimiser where SparseAdam's state would not fit."""
import torch
from torch import nn

from chalicelib.models import row_adagrad
from chalicelib.models.row_adagrad import RowWiseAdagrad, sparse_optimizer


def test_updates_only_the_rows_a_step_touched_with_one_accumulator_per_row():
    table = nn.Embedding(1000, 8, sparse=True)
    before = table.weight.detach().clone()
    optimizer = RowWiseAdagrad([table.weight], lr=0.1)
    table(torch.tensor([3, 3, 17])).sum().backward()
    optimizer.step()
    changed = (table.weight.detach() != before).any(1).nonzero().squeeze(1).tolist()
    assert changed == [3, 17]
    assert optimizer.state[table.weight]["sum"].shape == (1000,)   # not [1000, 8]
    # the first step of a row moves each element by about lr (Adagrad's normalised step)
    step = (before - table.weight.detach())[17]
    assert torch.allclose(step, torch.full((8,), 0.1), atol=1e-4)


def test_fits_an_embedding_to_targets():
    torch.manual_seed(0)
    table = nn.Embedding(50, 4, sparse=True)
    target = torch.randn(50, 4)
    optimizer = RowWiseAdagrad([table.weight], lr=0.3)
    rows = torch.arange(50)
    first = None
    for _ in range(300):
        optimizer.zero_grad()
        loss = ((table(rows) - target) ** 2).sum()
        loss.backward()
        optimizer.step()
        first = first if first is not None else float(loss)
    assert float(loss) < 0.01 * first


def test_sparse_adam_is_kept_until_its_state_passes_the_limit(monkeypatch):
    table = nn.Embedding(1000, 8, sparse=True)   # Adam's state: 64 kB
    assert isinstance(sparse_optimizer([table.weight], 0.01), torch.optim.SparseAdam)
    monkeypatch.setattr(row_adagrad, "ADAM_STATE_LIMIT_BYTES", 32_000)
    assert isinstance(sparse_optimizer([table.weight], 0.01), RowWiseAdagrad)
