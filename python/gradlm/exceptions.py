"""Warnings gradlm raises."""


class ConvergenceWarning(UserWarning):
    """Training ended at ``epochs`` before the loss stopped improving by ``tol``."""
