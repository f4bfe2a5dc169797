"""GDRegressor against scikit-learn's own estimator checks, each its own test, and the bugs those checks found,
each a test named for it; gradlm's ConvergenceWarning as scikit-learn's; sample_weight routed through a Pipeline."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

import gradlm

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3))
y = X @ np.array([1.0, -2.0, 0.5]) + 3.0 + 0.1 * rng.normal(size=40)


@parametrize_with_checks([gradlm.GDRegressor()])
def test_sklearn_check(estimator, check):
    check(estimator)


# --- what the checks found: one test per bug, on gradlm's words -------------------------------------------------


def test_predict_with_another_feature_count_says_it_in_sklearns_words():
    """predict and score said "X has 1 feature(s), but the model expects 3": scikit-learn's checks look for
    "X has 1 features, but GDRegressor is expecting 3 features as input"."""
    est = gradlm.GDRegressor().fit(X, y)
    message = (r"^X has 1 features, but GDRegressor is expecting 3 features as input; pass the same columns it was "
               r"fitted with\.$")
    with pytest.raises(ValueError, match=message):
        est.predict(X[:, :1])
    with pytest.raises(ValueError, match=message):
        est.score(X[:, :1], y)
    with pytest.raises(ValueError, match=r"X has 1 feature\(s\), but the model expects 3"):  # LinearModel: as it was
        gradlm.LinearModel(3, 1).predict(X[:, :1])


class _RefusesNumpyFunctions:
    """An array-like that converts (np.asarray) but refuses NumPy's functions, as scikit-learn's _NotAnArray."""

    def __init__(self, data):
        self.data = np.asarray(data)

    def __array__(self, dtype=None, copy=None):
        return self.data

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"Don't want to call array_function {func.__name__}!")


def test_array_likes_that_refuse_numpy_functions_are_read():
    """fit called np.ndim(y), which such array-likes refuse ("Don't want to call array_function ndim!")."""
    Xa, ya, wa = (_RefusesNumpyFunctions(a) for a in (X, y, np.linspace(0.5, 2.0, 40)))
    est = gradlm.GDRegressor(seed=0).fit(Xa, ya, sample_weight=wa)
    exact = gradlm.lstsq(X, y, sample_weight=np.linspace(0.5, 2.0, 40))
    assert est.coef_.shape == (3,)  # y was 1-D
    np.testing.assert_allclose(est.coef_, exact.weight[0], rtol=1e-6)
    np.testing.assert_allclose(est.predict(Xa), est.predict(X))
    assert est.score(Xa, ya) == est.score(X, y)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_complex_X_is_a_value_error(kind):
    """Complex data raised TypeError; scikit-learn's estimators raise ValueError ("Complex data not supported")."""
    Xc = X + 1j if kind == "numpy" else torch.from_numpy(X + 1j)
    dtype = "complex128" if kind == "numpy" else "torch.complex128"
    message = (rf"^X is complex \({dtype}\)\. Complex data not supported: pass its real part \(X\.real\), or its real "
               r"and imaginary parts as separate columns\.$")
    for call in (lambda: gradlm.GDRegressor().fit(Xc, y), lambda: gradlm.GDRegressor().fit(X, y).predict(Xc),
                 lambda: gradlm.lstsq(Xc, y), lambda: gradlm.fit(gradlm.LinearModel(3, 1), Xc, y, epochs=1, lr=0.1)):
        with pytest.raises(ValueError, match=message):
            call()
    with pytest.raises(ValueError, match=r"^y is complex"):
        gradlm.GDRegressor().fit(X, y + 1j)


def test_object_array_holding_a_non_number_says_why():
    """An object array with a dict in it said only "cannot be read as numbers"; it now gives NumPy's reason too
    (whose words, "argument must be a string or a real number", scikit-learn's checks look for)."""
    bad = X.astype(object)
    bad[0, 0] = {"foo": "bar"}
    with pytest.raises(TypeError, match=r"^X must be numeric; got an array of object that cannot be read as numbers "
                                        r"\(float\(\) argument must be a string or a (real )?number, not 'dict'\)\. "
                                        r"Convert text columns to numbers or drop them\.$"):
        gradlm.GDRegressor().fit(bad, y)
    est = gradlm.GDRegressor(seed=0).fit(X.astype(object), y)  # an object array of numbers is numbers
    np.testing.assert_allclose(est.coef_, gradlm.GDRegressor(seed=0).fit(X, y).coef_)


def test_zero_features_says_it_in_sklearns_words():
    """"X has 0 features (shape (12, 0))": scikit-learn's checks look for "0 feature(s) (shape=(12, 0)) while a
    minimum of 1 is required"."""
    message = r"^X has 0 feature\(s\) \(shape=\(12, 0\)\) while a minimum of 1 is required; pass at least one column\."
    for call in (lambda: gradlm.GDRegressor().fit(np.empty((12, 0)), np.ones(12)),
                 lambda: gradlm.lstsq(np.empty((12, 0)), np.ones(12))):
        with pytest.raises(ValueError, match=message):
            call()


def test_one_dimensional_X_is_refused_by_the_estimator_only():
    """GDRegressor took a 1-D X as one feature, at fit and at predict; scikit-learn's estimators refuse it (one
    feature, or one row?) with "Reshape your data". gradlm.fit and lstsq keep their documented rule: one feature."""
    message = (r"^X is 1-D \(shape \((40|3),\)\), but GDRegressor expects 2-D X \(rows, features\)\. Reshape your data "
               r"either using X\.reshape\(-1, 1\) if your data has a single feature or X\.reshape\(1, -1\) if it "
               r"contains a single sample\.$")
    with pytest.raises(ValueError, match=message):
        gradlm.GDRegressor().fit(X[:, 0], y)
    with pytest.raises(ValueError, match=message):
        gradlm.estimator.Regressor().fit(X[:, 0], y)  # (R's gd_lm passes a matrix always)
    est = gradlm.GDRegressor().fit(X, y)
    with pytest.raises(ValueError, match=message):
        est.predict(X[0])
    with pytest.raises(ValueError, match=message):
        est.score(X[0], y[:1])
    one = gradlm.GDRegressor(seed=0).fit(X[:, :1], y)
    exact = gradlm.lstsq(X[:, 0], y)  # a 1-D X: one feature
    np.testing.assert_allclose(one.coef_, exact.weight[0], rtol=1e-6)
    history = gradlm.fit(gradlm.LinearModel(1, 1, dtype=torch.float64), X[:, 0], y, epochs=3, lr=0.1, tol=None)
    assert history.weight.shape == (1, 1)


def test_fit_without_y_is_a_value_error():
    """GDRegressor().fit(X, None) raised TypeError "y is None"; scikit-learn's estimators raise ValueError, in
    these words. (A Stream as X holds its targets: y=None is right there.)"""
    message = (r"^GDRegressor requires y to be passed, but the target y is None; pass the targets \(one row per row "
               r"of X\), or X as a gradlm Stream that holds them\.$")
    with pytest.raises(ValueError, match=message):
        gradlm.GDRegressor().fit(X, None)
    with pytest.raises(TypeError, match=r"^y is None; pass an array of numbers"):  # elsewhere, as it was
        gradlm.lstsq(X, None)


# --- ConvergenceWarning: scikit-learn's, without `import gradlm` importing scikit-learn ----------------------------


def unconverged_fit():
    return gradlm.GDRegressor(epochs=2, lr=1e-3, seed=0).fit(X, y)


def test_convergence_warning_is_sklearns_and_one_class():
    from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning

    from gradlm.exceptions import ConvergenceWarning, ConvergenceWarningBase, convergence_warning

    cls = gradlm.ConvergenceWarning
    assert cls is ConvergenceWarning is gradlm.exceptions.ConvergenceWarning is convergence_warning()
    assert issubclass(cls, SklearnConvergenceWarning) and issubclass(cls, ConvergenceWarningBase)
    assert cls.__name__ == "ConvergenceWarning" and cls.__module__ == "gradlm.exceptions"
    assert pickle.loads(pickle.dumps(cls)) is cls
    again = pickle.loads(pickle.dumps(cls("did not converge")))
    assert type(again) is cls and str(again) == "did not converge"
    assert "ConvergenceWarning" in dir(gradlm)


def test_sklearns_filters_silence_gradlms_convergence_warning():
    from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
    from sklearn.utils._testing import ignore_warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        assert not unconverged_fit().converged_
    assert not caught
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ignore_warnings(category=SklearnConvergenceWarning)(unconverged_fit)()
    assert not caught
    with pytest.warns(gradlm.ConvergenceWarning, match=r"did not converge \(ran all 2 epochs\)"):
        unconverged_fit()
    with pytest.warns(SklearnConvergenceWarning, match=r"did not converge"):
        unconverged_fit()


def test_r_bridge_catches_convergence_warnings():
    from gradlm import r_bridge

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none leaks past the bridge
        out = r_bridge.fit_lm(X, y, epochs=2, lr=1e-3, seed=0)
    assert len(out["warnings"]) == 1 and out["warnings"][0].startswith("did not converge (ran all 2 epochs)")


def _python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_gradlm_and_the_r_bridge_do_not_import_sklearn():
    """R's first gd_lm call stays free of scikit-learn's import (about a second); only a ConvergenceWarning made
    (a fit that did not converge, or gradlm.ConvergenceWarning named) imports it."""
    code = ("import sys, warnings, gradlm\n"
            "from gradlm import r_bridge\n"
            "X, y = gradlm.datasets.crops()\n"
            "out = r_bridge.fit_lm(X.double().numpy(), y.double().numpy(), seed=0)\n"
            "assert out['report']['converged'] and not out['warnings']\n"
            "gradlm.estimator.Regressor(seed=0).fit(X, y)\n"
            "print('sklearn' in sys.modules)\n"
            "out = r_bridge.fit_lm(X.double().numpy(), y.double().numpy(), epochs=2, lr=1e-5, seed=0)\n"
            "print(len(out['warnings']), issubclass(gradlm.ConvergenceWarning, "
            "__import__('sklearn.exceptions').exceptions.ConvergenceWarning))\n")
    assert _python(code).split() == ["False", "1", "True"]


def test_convergence_warning_without_sklearn():
    code = ("import sys, warnings\n"
            "sys.modules['sklearn'] = None  # as if it were not installed\n"
            "import gradlm, numpy as np\n"
            "from gradlm.exceptions import ConvergenceWarningBase\n"
            "X, y = gradlm.datasets.crops()\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            "    gradlm.fit(gradlm.LinearModel(3, 2), X, y, epochs=2, lr=1e-5, tol=1e-3)\n"
            "cls = gradlm.ConvergenceWarning\n"
            "assert [w.category for w in caught] == [cls], caught\n"
            "print(cls.__mro__[1:3] == (ConvergenceWarningBase, UserWarning))\n")
    assert _python(code) == "True"


# --- metadata routing ---------------------------------------------------------------------------------------------


def test_sample_weight_reaches_fit_through_metadata_routing():
    from sklearn import config_context
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    w = np.linspace(0.1, 3.0, 40) ** 2
    weighted, plain = gradlm.lstsq(X, y, sample_weight=w), gradlm.lstsq(X, y)
    with config_context(enable_metadata_routing=True):
        pipe = Pipeline([("scale", StandardScaler().set_fit_request(sample_weight=False)),
                         ("reg", gradlm.GDRegressor(seed=0).set_fit_request(sample_weight=True))])
        pipe.fit(X, y, sample_weight=w)
        alone = Pipeline([("reg", gradlm.GDRegressor(seed=0).set_fit_request(sample_weight=True))])
        alone.fit(X, y, sample_weight=w)
    # the scaler changes the coefficients, not the predictions of a model with intercept
    np.testing.assert_allclose(pipe.predict(X), X @ weighted.weight[0] + weighted.bias[0], rtol=1e-6)
    np.testing.assert_allclose(alone[-1].coef_, weighted.weight[0], rtol=1e-6)
    assert not np.allclose(weighted.weight, plain.weight, rtol=1e-3)  # (the weights matter here)
    # without routing, the step's name routes it
    old_style = Pipeline([("reg", gradlm.GDRegressor(seed=0))]).fit(X, y, reg__sample_weight=w)
    np.testing.assert_allclose(old_style[-1].coef_, weighted.weight[0], rtol=1e-6)
