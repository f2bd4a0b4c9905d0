import numpy as np

from emlib.datasets import THREE_GAUSSIANS, annulus, old_faithful, three_gaussians


def test_old_faithful_is_rs_faithful():
    X = old_faithful()
    assert X.shape == (272, 2)
    # R: colMeans(faithful) = 3.487783, 70.897059; first row 3.600, 79
    np.testing.assert_allclose(X.mean(axis=0), [3.487783, 70.897059], atol=1e-6)
    np.testing.assert_array_equal(X[0], [3.6, 79])


def test_annulus_lies_on_the_ring():
    X = annulus(900, np.random.default_rng(0), radius=2.0, width=0.4)
    r = np.hypot(X[:, 0], X[:, 1])
    assert X.shape == (900, 2) and r.min() >= 1.8 and r.max() <= 2.2


def test_three_gaussians_is_seeded_and_labelled():
    X1, z1 = three_gaussians(100, 5)
    X2, z2 = three_gaussians(100, 5)
    np.testing.assert_array_equal(X1, X2)
    assert set(np.unique(z1)) <= {0, 1, 2} and THREE_GAUSSIANS.n_components == 3


def test_crescents_lie_on_two_interleaved_half_circles():
    import pytest

    from emlib.datasets import crescents

    X, z = crescents(300, 4, noise=0.0)
    upper, lower = X[z == 0], X[z == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)                       # radius 1 around (0, 0)
    np.testing.assert_allclose(np.hypot(1.0 - lower[:, 0], 0.5 - lower[:, 1]), 1.0)  # radius 1 around (1, 0.5)
    assert upper[:, 1].min() >= 0 and lower[:, 1].max() <= 0.5 and set(np.unique(z)) == {0, 1}
    X1, z1 = crescents(50, 7)
    X2, z2 = crescents(50, 7)
    np.testing.assert_array_equal(X1, X2)
    assert X1.shape == (50, 2) and z1.shape == (50,)
    with pytest.raises(ValueError, match="noise"):
        crescents(10, 0, noise=-1.0)
