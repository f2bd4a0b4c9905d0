"""emlib.scoring: overlap counts, label matching (Hungarian), matched accuracy, component matching."""

import itertools

import numpy as np
import pytest

from emlib.scoring import match_components, match_labels, matched_accuracy, overlap_counts


def test_overlap_counts_equal_a_double_loop():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 4, 200)
    b = rng.integers(0, 3, 200)
    C = overlap_counts(a, b)
    assert C.shape == (4, 3) and C.sum() == 200
    for k, j in itertools.product(range(4), range(3)):
        assert C[k, j] == np.sum((a == k) & (b == j))


# --- matching -------------------------------------------------------------------------------------
def test_match_labels_undoes_a_permutation_of_the_components():
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 4, 500)
    perm = np.array([2, 0, 3, 1])                     # component perm[j] stands for class j
    labels = perm[truth]
    noisy = labels.copy()
    noisy[:40] = rng.integers(0, 4, 40)
    mapping = match_labels(noisy, truth)
    np.testing.assert_array_equal(mapping[perm], np.arange(4))
    assert np.mean(mapping[noisy] == truth) > 0.9


def test_match_labels_many_to_one_merges_components_of_one_class():
    truth = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    labels = np.array([0, 0, 2, 2, 1, 1, 1, 3])       # class 0 split into components 0 and 2
    np.testing.assert_array_equal(match_labels(labels, truth, many_to_one=True), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="many_to_one=True"):
        match_labels(labels, truth)


def test_matched_accuracy_ignores_the_names_of_the_labels():
    truth = np.array([0, 0, 1, 1, 2, 2])
    assert matched_accuracy(np.array([2, 2, 0, 0, 1, 1]), truth) == 1.0
    assert matched_accuracy(np.array([2, 2, 0, 1, 1, 1]), truth) == pytest.approx(5 / 6)


def test_matched_accuracy_solves_the_assignment_not_a_greedy_pick():
    truth = np.array([0] * 6 + [1] * 6)
    pred = np.array([0, 0, 0, 0, 1, 1] + [0, 0, 0, 0, 0, 1])
    C = overlap_counts(pred, truth)
    np.testing.assert_array_equal(C, [[4, 5], [2, 1]])
    # Greedy: true 0 takes its most common label 0 (4 right), true 1 is left with label 1 (1 right): 5/12.
    # The best one-to-one matching, 0 -> 1 and 1 -> 0, gets 2 + 5 = 7 right.
    assert matched_accuracy(pred, truth) == pytest.approx(7 / 12)


def test_match_labels_pairs_labels_one_to_one_and_marks_the_errors():
    truth = np.array([0, 0, 0, 1, 1, 1])
    pred = np.array([1, 1, 2, 0, 0, 2])
    region = match_labels(pred, truth, allow_unmatched=True)
    np.testing.assert_array_equal(region, [1, 0, -1])            # label 2 is left unpaired
    np.testing.assert_array_equal(region[pred] != truth, [0, 0, 1, 0, 0, 1])


def test_extra_predicted_labels_count_as_errors():
    truth = np.array([0, 0, 0, 1, 1, 1])
    pred = np.array([0, 0, 2, 1, 1, 3])
    assert matched_accuracy(pred, truth) == pytest.approx(4 / 6)


def test_matched_accuracy_rejects_mismatched_or_non_integer_labels():
    with pytest.raises(ValueError, match="same shape"):
        matched_accuracy(np.zeros(3, int), np.zeros(4, int))
    with pytest.raises(TypeError, match="labels must hold integer labels"):
        matched_accuracy(np.zeros(3), np.zeros(3, int))
    with pytest.raises(ValueError, match="empty"):
        matched_accuracy(np.zeros(0, int), np.zeros(0, int))


def test_match_components_undoes_a_permutation_of_the_means():
    rng = np.random.default_rng(3)
    ref = rng.normal(size=(5, 2)) * 10
    perm = np.array([3, 0, 4, 1, 2])
    got = ref[perm] + rng.normal(scale=0.01, size=(5, 2))
    found = match_components(ref, got)
    np.testing.assert_allclose(got[found], ref, atol=0.1)
    with pytest.raises(ValueError, match="same shape"):
        match_components(ref, got[:4])


def test_parameter_errors_match_components_before_measuring():
    from emlib import Mixture
    from emlib.scoring import parameter_errors

    covs = np.stack([np.eye(2), 2 * np.eye(2)])
    truth = Mixture([0.5, 0.5], [[0.0, 0.0], [5.0, 0.0]], covs)
    swapped = Mixture([0.5, 0.5], [[5.0, 0.3], [0.0, 0.0]], covs[::-1] + np.array([0.0, 0.1])[:, None, None] * np.eye(2))
    mean_error, cov_error = parameter_errors(swapped, truth)
    assert mean_error == pytest.approx(0.3 / 2)                       # only the second mean moved, by 0.3
    assert cov_error == pytest.approx(0.1 * np.sqrt(2) / 2)           # Frobenius norm of 0.1 I, averaged over 2
    assert parameter_errors(truth, truth) == (0.0, 0.0)
    with pytest.raises(TypeError, match="truth must be an emlib.Mixture"):
        parameter_errors(truth, truth.means)
    with pytest.raises(ValueError, match="same number of components"):
        parameter_errors(truth, truth.subset([0]))
