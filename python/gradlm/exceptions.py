"""The warnings and errors gradlm raises beyond ValueError and TypeError."""


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted estimator was called before ``fit`` (as scikit-learn's, whose
    ``NotFittedError`` is also both; ``GDRegressor`` raises a subclass of scikit-learn's own)."""


class ConvergenceWarning(UserWarning):
    """Training ended at ``epochs`` before the loss stopped improving by ``tol``."""


class DivergenceWarning(UserWarning):
    """Training diverged and ``on_divergence="warn"`` asked for a warning instead of an error."""


class DivergenceError(RuntimeError):
    """Training diverged: the loss became NaN or infinite, or kept growing.

    The model keeps the parameters of the last epoch whose loss was finite;
    ``history`` holds the run up to the divergence and ``epoch`` the epoch at
    which it was detected (from 1).
    """

    def __init__(self, message: str, history=None, epoch=None) -> None:
        super().__init__(message)
        self.history = history
        self.epoch = epoch
