"""GDRegressor(validation_fraction=...): held-out rows, their loss each epoch, and early stopping on it."""

import warnings

import numpy as np
import pytest
import torch

import gradlm
from gradlm.analytic import SufficientStatistics


def noisy(n=400, d=3, seed=2):
    data = gradlm.datasets.make_regression(n, d, noise=1.0, seed=seed)
    return data.X.numpy().astype(np.float64), data.y.numpy()[:, 0].astype(np.float64)


def split_of(n, fraction, seed):
    """The rows held out: torch.randperm under a generator seeded by ``seed``, ceil(fraction n) of them."""
    held = int(np.ceil(fraction * n))
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).numpy()
    return np.sort(order[held:]), np.sort(order[:held])


def fit_quietly(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gradlm.ConvergenceWarning)  # (an early stop is not certified)
        return est.fit(*args, **kwargs)


def test_the_split_sizes_and_the_training_rows_are_what_the_report_is_of():
    X, y = noisy(50)
    est = fit_quietly(gradlm.GDRegressor(validation_fraction=0.2, seed=7), X, y)
    train, held = split_of(50, 0.2, 7)
    assert len(train) == 40 and len(held) == 10
    assert est.history_.settings["n"] == 40 and len(est.history_.val_loss) == est.n_iter_
    # standardization, exact solution and inference are those of the training rows
    np.testing.assert_allclose(est.x_mean_, X[train].mean(axis=0), rtol=1e-12)
    weight, bias = gradlm.lstsq(X[train], y[train])
    np.testing.assert_allclose(est.lstsq_.weight, weight, rtol=1e-10)
    assert est.inference_.df_resid == 40 - 4


def test_a_fraction_rounds_the_held_out_side_up():
    X, y = noisy(15)
    est = fit_quietly(gradlm.GDRegressor(validation_fraction=0.1, seed=0), X, y)
    assert est.history_.settings["n"] == 13  # ceil(1.5) = 2 held out, as scikit-learn's train_test_split


def test_the_split_is_reproducible_with_the_seed():
    X, y = noisy()
    fits = [fit_quietly(gradlm.GDRegressor(validation_fraction=0.25, batch_size=16, lr=0.05, seed=seed), X, y)
            for seed in (3, 3, 4)]
    np.testing.assert_array_equal(fits[0].lstsq_.weight, fits[1].lstsq_.weight)  # the same split
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    np.testing.assert_array_equal(fits[0].history_.val_loss, fits[1].history_.val_loss)
    assert not np.array_equal(fits[0].lstsq_.weight, fits[2].lstsq_.weight)  # another split
    state = torch.get_rng_state()
    fit_quietly(gradlm.GDRegressor(validation_fraction=0.25, seed=3), X, y)
    assert torch.equal(torch.get_rng_state(), state)  # (a seeded split leaves the global RNG alone)


def test_early_stopping_on_the_held_out_rows_restores_the_best_epoch():
    """Mini-batch SGD, whose held-out loss wanders: stopped 10 epochs after its best, back at the best."""
    X, y = noisy()
    est = fit_quietly(gradlm.GDRegressor(validation_fraction=0.2, batch_size=16, lr=0.05, seed=0, epochs=500), X, y)
    history = est.history_
    assert history.settings["patience"] == 10 and history.stop_reason == "patience"
    best = int(np.argmin(history.val_loss))
    assert history.epochs_run == best + 1 + 10
    # the held-out loss of the coefficients kept is the best epoch's (recorded on the standardized scale)
    _, held = split_of(400, 0.2, 0)
    loss = np.mean((X[held] @ est.coef_ + est.intercept_ - y[held]) ** 2)
    assert loss == pytest.approx(history.val_loss[best] * est.y_scale_[0] ** 2, rel=1e-9)


def test_a_given_patience_is_kept():
    X, y = noisy()
    est = fit_quietly(gradlm.GDRegressor(validation_fraction=0.2, patience=3, batch_size=16, lr=0.05, seed=0), X, y)
    assert est.history_.settings["patience"] == 3
    assert gradlm.GDRegressor(seed=0).fit(X, y).history_.settings["patience"] is None


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.2, "0.2", True, float("nan")])
def test_the_fraction_is_checked(fraction):
    X, y = noisy(50)
    with pytest.raises(ValueError, match="validation_fraction must be a number between 0 and 1"):
        gradlm.GDRegressor(validation_fraction=fraction).fit(X, y)


def test_too_few_rows_on_a_side_is_an_error():
    X, y = noisy(5)
    with pytest.raises(ValueError, match="validation_fraction=0.7 of 5 rows leaves 1 for training and 4 for "
                                         "validation; each needs at least 2"):
        gradlm.GDRegressor(validation_fraction=0.7).fit(X, y)
    with pytest.raises(ValueError, match="leaves 4 for training and 1 for validation"):
        gradlm.GDRegressor(validation_fraction=0.1).fit(X, y)


def test_it_does_not_go_with_rows_or_moments_given_for_all_the_data(tmp_path):
    X, y = noisy(50)
    est = gradlm.GDRegressor(validation_fraction=0.2)
    with pytest.raises(ValueError, match="it does not go with validation="):
        est.fit(X, y, validation=(X[:5], y[:5]))
    with pytest.raises(ValueError, match="it does not go with sample_weight="):
        est.fit(X, y, sample_weight=np.ones(50))
    with pytest.raises(ValueError, match="it does not go with statistics="):
        est.fit(X, y, statistics=SufficientStatistics(torch.as_tensor(X), torch.as_tensor(y)[:, None]))
    with pytest.raises(ValueError, match="validation_fraction applies to fit"):
        est.partial_fit(X, y)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    with pytest.raises(ValueError, match="with a Stream as X, pass validation="):
        est.fit(gradlm.stream(tmp_path / "X.npy", target=tmp_path / "y.npy"), None)
