"""Why a model or a row takes scikit-learn's own path instead of a fold."""


class NotFoldable(Exception):
    """The estimator is not one a fold reproduces exactly."""


class RowNotFoldable(Exception):
    """The row holds a value a fold does not read as scikit-learn would."""
