"""shuffle="batches": contiguous batches in a random order, the cheaper mini-batch order."""

import numpy as np
import pytest
import torch

import gradlm
from gradlm.batches import BatchOrder


def test_batches_order_visits_every_row_once_in_contiguous_batches():
    order = BatchOrder(10, batch_size=3, shuffle="batches", seed=0)
    epochs = [list(order.epoch()) for _ in range(4)]
    for batches in epochs:
        assert all(isinstance(b, slice) for b in batches)  # no rows gathered
        rows = sorted(r for b in batches for r in range(*b.indices(10)))
        assert rows == list(range(10))
        assert sorted((b.start, b.stop) for b in batches) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert len({tuple(b.start for b in batches) for batches in epochs}) > 1  # another order each epoch
    again = BatchOrder(10, batch_size=3, shuffle="batches", seed=0)
    assert [b.start for b in again.epoch()] == [b.start for b in epochs[0]]  # reproducible with the seed


def test_batches_order_trains_as_well_on_data_in_random_order():
    data = gradlm.datasets.make_regression(20_000, 5, noise=0.5, seed=1)
    exact = gradlm.lstsq(data.X.double(), data.y.double()).weight
    errors = {}
    for shuffle in (True, "batches"):
        torch.manual_seed(0)
        h = gradlm.fit(gradlm.LinearModel(5, 1), data.X, data.y, epochs=5, lr=0.01, batch_size=64, seed=0,
                       shuffle=shuffle, tol=None)
        errors[shuffle] = np.abs(h.weight - exact).max() / np.abs(exact).max()
        assert h.settings["shuffle"] == shuffle
    assert errors["batches"] < 3 * errors[True] + 1e-3


def test_batches_order_on_a_stream_keeps_each_pool_as_it_lies(tmp_path):
    data = gradlm.datasets.make_regression(3000, 2, seed=2)
    np.save(tmp_path / "X.npy", data.X.numpy())
    np.save(tmp_path / "y.npy", data.y.numpy())
    s = gradlm.stream(tmp_path / "X.npy", target=str(tmp_path / "y.npy"), chunk_rows=200)
    batches = list(s.batches(50, torch.Generator().manual_seed(0), shuffle="batches"))
    rows = torch.cat([Xb for Xb, _ in batches])
    assert rows.shape[0] == 3000
    # every row once; within a unit the rows keep their order
    np.testing.assert_array_equal(np.sort(rows[:, 0].numpy()), np.sort(data.X[:, 0].numpy()))
    first = batches[0][0]
    where = int(torch.nonzero((data.X == first[0]).all(dim=1))[0, 0])
    torch.testing.assert_close(first, data.X[where : where + 50])


def test_bad_shuffle_is_a_clear_error():
    X, y = gradlm.datasets.line()
    with pytest.raises(ValueError, match="shuffle must be True .* False, or 'batches'"):
        gradlm.fit(gradlm.LinearModel(1, 1), X, y, epochs=1, lr=0.01, batch_size=10, shuffle="rows")


def test_numpy_gd_refuses_the_batches_order():
    """numpy_gd draws NumPy's permutation: 'batches' would have been taken as True without a word."""
    X, y = gradlm.datasets.numpy_points()
    with pytest.raises(ValueError, match="numpy_gd's shuffle is True or False"):
        gradlm.numpy_gd(X.reshape(-1, 1), y, epochs=1, lr=0.01, batch_size=5, shuffle="batches")
