"""Checks for exercise 09, the MRI project: ``dice_scores``, ``weighted_m_step``, ``histogram_bic``, ``merge_components``.

The cases are small and made here (quantised draws from a known mixture, hand-made labels), so
importing this module never loads the MRI template.
"""

from __future__ import annotations

import numpy as np

from ... import steps
from ... import scoring
from ...apps import segmentation
from ...mixture import Mixture
from ...selection import n_parameters
from . import _random
from ._feedback import (
    Case,
    as_array,
    as_number,
    call,
    check,
    expect_close,
    expect_equal,
    expect_finite,
    expect_shape,
    expect_tuple,
)

__all__ = ["check_dice_scores", "check_weighted_m_step", "check_histogram_bic", "check_merge_components"]

# --- dice_scores ----------------------------------------------------------------------------------

_RNG = np.random.default_rng(2009)
_TRUTH3 = _RNG.integers(0, 3, 40)
_PRED3 = np.where(_RNG.random(40) < 0.7, _TRUTH3, _RNG.integers(0, 3, 40))

DICE_CASES = [
    Case("six samples, two classes", labels=np.array([0, 0, 0, 1, 1, 1]), truth=np.array([0, 0, 1, 1, 1, 1]),
         n_classes=2),
    Case("class 2 is never predicted", labels=np.array([0, 1, 1, 0, 1, 0]), truth=np.array([0, 1, 2, 0, 2, 0]),
         n_classes=3),
    Case("40 samples, three classes, 70 % kept", labels=_PRED3, truth=_TRUTH3, n_classes=3),
]


def _overlaps(labels, truth, n_classes):
    both = np.array([np.sum((labels == k) & (truth == k)) for k in range(n_classes)], dtype=float)
    size_a = np.array([np.sum(labels == k) for k in range(n_classes)], dtype=float)
    size_b = np.array([np.sum(truth == k) for k in range(n_classes)], dtype=float)
    return both, size_a, size_b


def _dice_reference(labels, truth, n_classes):
    both, size_a, size_b = _overlaps(labels, truth, n_classes)
    return 2 * both / (size_a + size_b)


def _hidden_dice_scores(rng):
    truth3 = rng.integers(0, 3, 40)
    truth3[:3] = [0, 1, 2]
    pred3 = np.where(rng.random(40) < 0.7, truth3, rng.integers(0, 3, 40))
    truth2 = np.concatenate([[0, 1], rng.integers(0, 2, 6)])
    truth_never = np.concatenate([[0, 1, 2], rng.integers(0, 3, 5)])
    return [Case(f"{truth2.size} samples, two classes", labels=rng.integers(0, 2, truth2.size), truth=truth2, n_classes=2),
            Case("class 2 is never predicted", labels=rng.integers(0, 2, truth_never.size), truth=truth_never, n_classes=3),
            Case("40 samples, three classes, 70 % kept", labels=pred3, truth=truth3, n_classes=3)]


@check("dice_scores", reference=_dice_reference, forbidden=(segmentation.dice,),
       cases=DICE_CASES, hidden=_hidden_dice_scores)
def check_dice_scores(dice_scores, cases):
    """Check ``dice_scores(labels, truth, n_classes) -> (n_classes,)``: 2 |A_k & B_k| / (|A_k| + |B_k|)."""
    for case in cases:
        labels, truth, K = case.args
        got = as_array(call(dice_scores, case), "the Dice scores", case)
        expect_shape(got, (K,), "the Dice scores", meaning="(n_classes,), one per class", case=case)
        expect_finite(got, "the Dice scores", case=case,
                      hint="Every class occurs in truth here, so |A_k| + |B_k| > 0: no division by zero.")
        both, size_a, size_b = _overlaps(labels, truth, K)
        expected = 2 * both / (size_a + size_b)
        hint = "Dice_k = 2 |A_k and B_k| / (|A_k| + |B_k|): A_k = {labels == k}, B_k = {truth == k}."
        with np.errstate(divide="ignore", invalid="ignore"):
            if np.allclose(got, both / (size_a + size_b - both)):
                hint = ("That is the Jaccard index |A & B| / |A or B| (intersection over union); Dice counts "
                        "the overlap twice over the sum of the two sizes.")
            elif np.allclose(got, both / (size_a + size_b)):
                hint = "Count the overlap twice: Dice = 2 |A & B| / (|A| + |B|), 1 for a perfect match."
            elif np.allclose(got, both / size_b):
                hint = "That is the recall |A & B| / |B| of each class; Dice divides 2 |A & B| by |A| + |B|."
            elif np.allclose(got, np.where(size_a > 0, both / np.maximum(size_a, 1), 0.0)):
                hint = "That is the precision |A & B| / |A| of each class; Dice divides 2 |A & B| by |A| + |B|."
        expect_close(got, expected, "the Dice scores", case=case, rtol=1e-12, atol=1e-12, hint=hint)
    return f"correct on {len(cases)} cases (including a class that is never predicted)."


# --- weighted_m_step -------------------------------------------------------------------------------

def _quantised(n, seed):
    mix = Mixture.univariate([0.3, 0.5, 0.2], [0.25, 0.55, 0.8], [0.004, 0.003, 0.002])
    x, _ = mix.sample(n, np.random.default_rng(seed))
    values, counts = np.unique(np.round(np.clip(x[:, 0], 0, 1) * 50) / 50, return_counts=True)
    return values, counts, mix.posterior(values[:, None])


_V2, _C2, _R2 = _quantised(400, 1)
M_CASES = [
    Case("three values, two components", values=np.array([0.1, 0.5, 0.9]), counts=np.array([5, 1, 2]),
         resp=np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])),
    Case("a histogram of 400 draws from three Gaussians", values=_V2, counts=_C2, resp=_R2),
    Case("a value with count 0 (it must not matter)", values=np.array([0.0, 1.0, 2.0, 3.0]),
         counts=np.array([3, 0, 2, 5]), resp=np.array([[0.8, 0.2], [0.5, 0.5], [0.3, 0.7], [0.1, 0.9]])),
]


def _m_reference(values, counts, resp):
    """The M-step on the data written out sample by sample (emlib.m_step on np.repeat)."""
    X = np.repeat(values, counts)[:, None]
    R = np.repeat(resp, counts, axis=0)
    mix = steps.m_step(X, R, covariance="full", reg=0.0)
    return mix.weights, mix.means[:, 0], mix.covariances[:, 0, 0]


def _hidden_weighted_m_step(rng):
    values, counts, resp = _quantised(int(rng.integers(300, 500)), int(rng.integers(2**31)))
    u = int(rng.integers(3, 6))
    zero = rng.integers(1, 9, u)
    zero[int(rng.integers(u))] = 0
    return [Case("three values, two components", values=rng.uniform(0, 1, 3), counts=rng.integers(1, 9, 3),
                 resp=_random.responsibilities(rng, 3, 2)),
            Case("a histogram of draws from three Gaussians", values=values, counts=counts, resp=resp),
            Case("a value with count 0 (it must not matter)", values=np.sort(rng.uniform(0, 3, u)), counts=zero,
                 resp=_random.responsibilities(rng, u, 2))]


@check("weighted_m_step", reference=_m_reference, cases=M_CASES, hidden=_hidden_weighted_m_step,
       off_limits=('emlib.steps.m_step',
                   'emlib.em.em',
                   'emlib.steps.update_weights',
                   'emlib.steps.update_means',
                   'emlib.steps.update_covariances'),)
def check_weighted_m_step(weighted_m_step, cases):
    """Check ``weighted_m_step(values, counts, resp) -> (weights, means, variances)``, each of shape (m,)."""
    names = ("weights", "means", "variances")
    for case in cases:
        values, counts, resp = case.args
        m = resp.shape[1]
        got = expect_tuple(call(weighted_m_step, case), names, "weighted_m_step", case)
        got = [as_array(g, f"the {name}", case) for g, name in zip(got, names)]
        for g, name in zip(got, names):
            expect_shape(g, (m,), f"the {name}", meaning="(m,), one per component", case=case)
        expected = _m_reference(values, counts, resp)
        # likely mistakes: counts ignored, rho over the number of values, variances over n
        unweighted = steps.m_step(values[:, None], resp, covariance="full", reg=0.0)
        nk = counts @ resp
        hints = {
            "weights": "rho_k = sum_v c_v E[z_v^(k)] / sum_v c_v: the counts weigh every value.",
            "means": "mu_k = sum_v c_v E[z_v^(k)] v / N_k with N_k = sum_v c_v E[z_v^(k)].",
            "variances": "sigma_k^2 = sum_v c_v E[z_v^(k)] (v - mu_k)^2 / N_k, around the new mean mu_k.",
        }
        if np.allclose(got[1], unweighted.means[:, 0]):
            hints = {k: "Every value must count c_v times: multiply each responsibility by its count."
                     for k in names}
        elif np.allclose(got[0], nk / len(values)):
            hints["weights"] = ("You divided by the number of distinct values u; divide by the number of "
                                "samples n = sum_v c_v.")
        elif np.allclose(got[2], expected[2] * nk / counts.sum()):
            hints["variances"] = "You divided by n; divide component k's weighted sum by its own N_k."
        for g, e, name in zip(got, expected, names):
            expect_close(g, e, f"the {name}", case=case, rtol=1e-10, atol=1e-12, hint=hints[name])
    return (f"correct on {len(cases)} cases: the same weights, means and variances as the M-step on every "
            "sample written out.")


# --- histogram_bic ---------------------------------------------------------------------------------

_MIX2 = Mixture.univariate([0.6, 0.4], [0.3, 0.7], [0.01, 0.02])
_MIX3 = Mixture.univariate([0.3, 0.5, 0.2], [0.25, 0.55, 0.8], [0.004, 0.003, 0.002])
BIC_CASES = [
    Case("four values, m = 2", values=np.array([0.2, 0.4, 0.6, 0.8]), counts=np.array([10, 30, 25, 5]),
         mixture=_MIX2),
    Case("a histogram of 400 draws, m = 3", values=_V2, counts=_C2, mixture=_MIX3),
]


def _bic_reference(values, counts, mixture):
    n = counts.sum()
    ll = counts @ mixture.logpdf(values[:, None])
    return float(-2 * ll + n_parameters(mixture.n_components, 1, "full") * np.log(n))


def _hidden_histogram_bic(rng):
    values, counts, _ = _quantised(int(rng.integers(300, 500)), int(rng.integers(2**31)))
    return [Case("four values, m = 2", values=np.sort(rng.uniform(0.1, 0.9, 4)), counts=rng.integers(1, 40, 4),
                 mixture=_MIX2),
            Case("a histogram of draws, m = 3", values=values, counts=counts, mixture=_MIX3)]


@check("histogram_bic", reference=_bic_reference, cases=BIC_CASES, hidden=_hidden_histogram_bic,
       off_limits=('emlib.selection.bic', 'emlib.selection.n_parameters'))
def check_histogram_bic(histogram_bic, cases):
    """Check ``histogram_bic(values, counts, mixture) -> float``: -2 sum_v c_v ln p(v) + (3m - 1) ln n."""
    for case in cases:
        values, counts, mixture = case.args
        got = as_number(call(histogram_bic, case), "the BIC", case)
        expected = _bic_reference(values, counts, mixture)
        n, u, m = counts.sum(), len(values), mixture.n_components
        logp = mixture.logpdf(values[:, None])
        ll = counts @ logp
        p = 3 * m - 1
        hint = "BIC = -2 l + p ln n with l = sum_v c_v ln p(v), p = 3m - 1 and n = sum_v c_v."
        if np.isclose(got, -2 * ll + p * np.log(u)):
            hint = "n is the number of samples (voxels), sum_v c_v, not the number of distinct values."
        elif np.isclose(got, -2 * logp.sum() + p * np.log(n)):
            hint = "Weight each ln p(v) by its count c_v: value v stands for c_v samples."
        elif np.isclose(got, -2 * ll + 2 * p):
            hint = "That is AIC (-2 l + 2 p); BIC's penalty is p ln n."
        elif np.isclose(got, -expected):
            hint = "The sign is flipped: BIC = -2 l + p ln n, lower is better."
        elif np.isclose((got + 2 * ll) / np.log(n), round((got + 2 * ll) / np.log(n))):
            hint = (f"Your parameter count is {round((got + 2 * ll) / np.log(n))}; m = {m} univariate components "
                    f"have m - 1 free weights, m means and m variances: p = 3m - 1 = {p}.")
        expect_close(got, expected, "the BIC", case=case, rtol=1e-10, atol=1e-8, hint=hint)
    return f"correct on {len(cases)} cases: counts as weights, n = sum of the counts, p = 3m - 1."


# --- merge_components ------------------------------------------------------------------------------

_T6 = _RNG.integers(0, 3, 60)
_L6 = np.where(_T6 == 0, _RNG.integers(0, 2, 60), np.where(_T6 == 1, _RNG.integers(2, 4, 60), _RNG.integers(4, 6, 60)))
_L6[:5] = _RNG.integers(0, 6, 5)
MERGE_CASES = [
    Case("four components, two classes", labels=np.array([0, 0, 2, 2, 1, 1, 1, 3, 3]),
         truth=np.array([0, 0, 0, 0, 1, 1, 0, 1, 1]), m=4, n_classes=2),
    Case("six components, three classes, two per class", labels=_L6, truth=_T6, m=6, n_classes=3),
    Case("three components, three classes, shuffled", labels=np.array([2, 2, 0, 0, 1, 1, 1]),
         truth=np.array([0, 0, 1, 1, 2, 2, 0]), m=3, n_classes=3),
]


def _merge_reference(labels, truth, m, n_classes):
    return scoring.match_labels(labels, truth, many_to_one=True, n_labels=m, n_truth=n_classes)


def _hidden_merge_components(rng):
    truth = rng.integers(0, 3, 60)
    labels = 2 * truth + rng.integers(0, 2, 60)
    labels[:5] = rng.integers(0, 6, 5)
    labels[5:11] = np.arange(6)
    truth[5:11] = np.arange(6) // 2
    small_truth = np.array([0, 0, 0, 0, 1, 1, 0, 1, 1])
    perm = rng.permutation(3)
    return [Case("four components, two classes", labels=np.array([0, 0, 2, 2, 1, 1, 1, 3, 3]), truth=small_truth, m=4,
                 n_classes=2),
            Case("six components, three classes, two per class", labels=labels, truth=truth, m=6, n_classes=3),
            Case("three components, three classes, shuffled", labels=perm[np.array([0, 0, 1, 1, 2, 2, 2])],
                 truth=np.array([0, 0, 1, 1, 2, 2, 0]), m=3, n_classes=3)]


@check("merge_components", reference=_merge_reference, forbidden=(scoring.match_labels,),
       cases=MERGE_CASES, hidden=_hidden_merge_components)
def check_merge_components(merge_components, cases):
    """Check ``merge_components(labels, truth, m, n_classes) -> (m,)``: each component's majority class."""
    for case in cases:
        labels, truth, m, K = case.args
        got = as_array(call(merge_components, case), "the mapping", case, integer=True)
        expect_shape(got, (m,), "the mapping", meaning="(m,), one class per component", case=case)
        expected = _merge_reference(labels, truth, m, K)
        hint = "mapping[k] = the class j with the most samples among those labelled k: argmax_j C[k, j]."
        if np.any((got < 0) | (got >= K)):
            hint = f"Each entry is a class, an integer in [0, {K}): the class that component k stands for."
        elif m > K:
            hint = ("With more components than classes, several components must share a class: this is not a "
                    "one-to-one matching. Take each component's majority class, argmax_j C[k, j].")
        expect_equal(got, expected, "the mapping", case=case, hint=hint)
    return f"correct on {len(cases)} cases (components merged by their majority class)."
