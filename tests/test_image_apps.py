"""The image applications of notebooks 14 and 15, re-run and held to the numbers the notebooks report.

Each test repeats a notebook's set-up exactly (same images, crops, features, seeds and settings)
and asserts that the accuracy stays at or above the value stored in the notebook, minus a small
margin, and that emlib's segmentation is never worse than scikit-learn's on the same features.
If you change a notebook's set-up, change it here too.
"""

import warnings

import numpy as np
import pytest

pytest.importorskip("skimage")

from skimage import data                                   # noqa: E402
from skimage.color import rgb2gray                         # noqa: E402
from skimage.registration import optical_flow_tvl1         # noqa: E402
from sklearn.mixture import GaussianMixture                # noqa: E402
from threadpoolctl import threadpool_limits                # noqa: E402  (installed with scikit-learn)

import emlib                                               # noqa: E402
from emlib.scoring import matched_accuracy                 # noqa: E402
from emlib.apps.features import (                               # noqa: E402
    block_mean,
    blobworld_features,
    feature_matrix,
    flow_vectors,
    pixel_positions,
    standardize,
    texture_features,
    texture_mosaic,
)
from emlib.apps.motion import affine_design, em_motion, two_layer_frames   # noqa: E402

# What the notebooks print (notebooks/14_image_segmentation.ipynb, 15_motion_layers.ipynb).
MOSAIC_ACCURACY = 0.9409          # 14, section 2: EM on texture features, all 65 536 pixels
FLOW_GMM_ACCURACY = 0.7296        # 15, section 4: Gaussian mixture on flow vectors
AFFINE_ACCURACY = 0.9838          # 15, section 5: mixture of affine motions
MARGIN = 0.005
SAME = 1e-4                       # "not worse": at most ~6 of 65 536 pixels


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    """These fits are small: on a shared machine extra BLAS/OpenMP threads only wait for each other."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def mosaic_problem():
    """Notebook 14, section 2: gravel | grass halves with a brick disk, texture features, fit on every 4th pixel."""
    tex = [block_mean(load(), 2) / 255 for load in (data.gravel, data.grass, data.brick)]
    size = 256
    r, c = np.mgrid[0:size, 0:size] / size
    regions = np.where(c < 0.5, 0, 1)
    regions[(r - 0.62) ** 2 + (c - 0.5) ** 2 < 0.25 ** 2] = 2
    Z = standardize(feature_matrix(texture_features(texture_mosaic(tex, regions), 12.0, derivative_sigmas=(1.0, 3.0))))
    Z_fit = Z.reshape(size, size, -1)[::4, ::4].reshape(-1, Z.shape[1])
    rng = np.random.default_rng(14)
    starts = [emlib.init_kmeans_pp(Z_fit, 3, rng) for _ in range(5)]
    fits = [emlib.em(Z_fit, s, tol=1e-8, max_iter=1000, reg=1e-6, keep_history=False) for s in starts]
    best_j = int(np.argmax(np.round([fit.mean_loglik[-1] for fit in fits], 6)))
    return Z, Z_fit, regions.ravel(), starts[best_j], fits[best_j]


def test_texture_mosaic_accuracy_stays_at_the_notebook_value(mosaic_problem):
    Z, _, truth, _, best = mosaic_problem
    assert matched_accuracy(best.mixture.classify(Z), truth) >= MOSAIC_ACCURACY - MARGIN


def test_emlib_segments_the_mosaic_no_worse_than_sklearn(mosaic_problem):
    Z, Z_fit, truth, start, best = mosaic_problem
    acc = matched_accuracy(best.mixture.classify(Z), truth)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same = GaussianMixture(3, covariance_type="full", weights_init=start.weights, means_init=start.means,
                               precisions_init=start.precisions, tol=1e-8, max_iter=1000, reg_covar=1e-6).fit(Z_fit)
        own = GaussianMixture(3, covariance_type="full", n_init=5, tol=1e-8, max_iter=1000, reg_covar=1e-6,
                              random_state=14).fit(Z_fit)
    assert acc >= matched_accuracy(same.predict(Z), truth) - SAME
    assert acc >= matched_accuracy(own.predict(Z), truth) - SAME
    assert best.mixture.logpdf(Z_fit).mean() >= max(same.score(Z_fit), own.score(Z_fit)) - 1e-6


@pytest.fixture(scope="module")
def motion_problem():
    """Notebook 15: coffee background zooming and turning, a disk of the cat sliding; TV-L1 flow."""
    H, W = 128, 160
    background = block_mean(rgb2gray(data.coffee()), 2)[50:50 + H, 30:30 + W]
    foreground = block_mean(rgb2gray(data.chelsea()), 2)[10:10 + H, 50:50 + W]
    rows, cols = np.mgrid[0:H, 0:W]
    disk = (rows - 58) ** 2 + (cols - 62) ** 2 < 36 ** 2
    centre = np.array([H / 2, W / 2])
    zoom, turn = 1.04, np.deg2rad(2.0)
    A = zoom * np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]]) - np.eye(2)
    theta_bg = np.vstack([-A @ centre, A.T])
    theta_fg = np.array([[1.5, -2.5], [0.0, 0.0], [0.0, 0.0]])
    frame0, frame1, _, layers = two_layer_frames(background, foreground, disk, theta_bg, theta_fg)
    F = flow_vectors(optical_flow_tvl1(frame0, frame1))
    gmm = emlib.GaussianMixtureEM(2, n_init=5, tol=1e-8, max_iter=1000, random_state=15).fit(F)
    return F, layers.ravel(), gmm, (H, W)


def test_flow_vector_mixture_accuracy_stays_at_the_notebook_value(motion_problem):
    F, truth, gmm, _ = motion_problem
    assert matched_accuracy(gmm.predict(F), truth) >= FLOW_GMM_ACCURACY - MARGIN


def test_emlib_segments_flow_vectors_no_worse_than_sklearn(motion_problem):
    F, truth, gmm, _ = motion_problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = GaussianMixture(2, covariance_type="full", n_init=5, tol=1e-8, max_iter=1000, reg_covar=1e-6, random_state=15).fit(F)
    assert matched_accuracy(gmm.predict(F), truth) >= matched_accuracy(sk.predict(F), truth) - SAME
    assert gmm.score(F) >= sk.score(F) - 1e-6


def test_affine_layers_reach_the_notebook_accuracy_and_beat_flow_vectors(motion_problem):
    F, truth, gmm, shape = motion_problem
    result = em_motion(F, affine_design(pixel_positions(shape)), gmm.predict_proba(F), tol=1e-6, max_iter=200)
    acc = matched_accuracy(result.labels, truth)
    assert acc >= AFFINE_ACCURACY - MARGIN
    assert acc > matched_accuracy(gmm.predict(F), truth) + 0.2
    assert np.all(np.diff(result.loglik) >= -1e-6)


def test_photo_fit_is_no_worse_than_sklearn_from_the_same_start():
    """Notebook 14, section 4 (Blobworld features of the coffee photo), one m and one start."""
    photo = block_mean(data.coffee(), 6) / 255
    X = standardize(feature_matrix(blobworld_features(photo, sigma=2.0, colour_sigma=1.0)))
    start = emlib.init_kmeans_pp(X, 4, np.random.default_rng(14))
    ours = emlib.em(X, start, tol=1e-4, max_iter=100, keep_history=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = GaussianMixture(4, covariance_type="full", weights_init=start.weights, means_init=start.means,
                             precisions_init=start.precisions, tol=1e-4, max_iter=100, reg_covar=1e-6).fit(X)
    assert ours.mixture.logpdf(X).mean() >= sk.score(X) - 1e-4
    assert matched_accuracy(sk.predict(X), ours.mixture.classify(X)) > 0.99
