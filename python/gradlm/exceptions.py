"""The warnings and errors gradlm raises beyond ValueError and TypeError."""


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
