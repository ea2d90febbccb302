"""The closed form of the model (README, "The model"): K = 2 environments, cyclic schedule, population
gradient on the axis basis. Each coordinate follows u <- u (1 + 2 eta (s - u^2)); near zero a spurious
coordinate is multiplied per pair of steps by (1 + 2 eta mu)^2 - 4 eta^2 M^2, so it contracts exactly when
that factor lies in (-1, 1), i.e. for lower_threshold < M < upper_threshold."""

import numpy as np


def closed_form_applies(environments, schedule):
    """Whether runs with these parameters are of the model the closed form describes: K = 2 environments
    visited in turn (the cyclic schedule)."""
    return environments == 2 and schedule == "cyclic"


def pair_factor(step_size, spurious_mean, heterogeneity):
    """(1 + 2 eta mu)^2 - 4 eta^2 M^2: the spurious coordinate's growth near zero over one pair of steps."""
    eta, mu, m = (np.asarray(v, dtype=float) for v in (step_size, spurious_mean, heterogeneity))
    return (1 + 2 * eta * mu) ** 2 - 4 * eta**2 * m**2


def lower_threshold(step_size, spurious_mean):
    """sqrt(mu/eta + mu^2): the factor is below 1 for larger M. NaN where mu/eta + mu^2 < 0 (it is below 1
    for every M)."""
    eta, mu = np.asarray(step_size, dtype=float), np.asarray(spurious_mean, dtype=float)
    square = mu / eta + mu**2
    with np.errstate(invalid="ignore"):
        return np.where(square >= 0, np.sqrt(square), np.nan)


def upper_threshold(step_size, spurious_mean):
    """sqrt((1 + 2 eta mu)^2 + 1) / (2 eta): the factor is above -1 for smaller M (beyond it runs diverge)."""
    eta, mu = np.asarray(step_size, dtype=float), np.asarray(spurious_mean, dtype=float)
    return np.sqrt((1 + 2 * eta * mu) ** 2 + 1) / (2 * eta)
