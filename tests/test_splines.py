"Properties of the uniform B-spline basis, checked against scipy and against calculus."
import numpy as np
import pytest
import torch
from scipy.interpolate import BSpline

from spanrl.splines import bspline_basis, local_basis_matrix, nbasis

GRIDS = [(1, 0), (3, 0), (1, 1), (2, 1), (4, 2), (6, 2), (5, 3), (8, 3), (7, 4), (3, 5)]

def knots(n, k): return np.arange(-k, n + k + 1) / n

@pytest.mark.parametrize("n,k", GRIDS)
def test_matches_scipy_on_unit_interval(n, k):
    x = np.concatenate([np.random.default_rng(n * 10 + k).uniform(0, 1, 2000), np.arange(n + 1) / n])
    ref = BSpline(knots(n, k), np.eye(n + k), k)(x)
    got = bspline_basis(torch.tensor(x, dtype=torch.float64), n, k).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-12)
    got32 = bspline_basis(torch.tensor(x, dtype=torch.float32), n, k).numpy()
    np.testing.assert_allclose(got32, ref, atol=1e-6)

@pytest.mark.parametrize("n,k", [g for g in GRIDS if g[1] > 0])
def test_matches_scipy_outside_unit_interval(n, k):
    "Outside [0,1]: each basis is the B-spline on the extended knots, zero beyond its support (no extrapolation)."
    t = knots(n, k)
    x = np.linspace(-1.5, 2.5, 1601)
    ref = np.stack([np.nan_to_num(BSpline.basis_element(t[j:j + k + 2], extrapolate=False)(x)) for j in range(n + k)], -1)
    got = bspline_basis(torch.tensor(x, dtype=torch.float64), n, k).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-12)

@pytest.mark.parametrize("n,k", GRIDS)
def test_partition_nonnegativity_local_support(n, k):
    x = torch.rand(5000, dtype=torch.float64)
    B = bspline_basis(x, n, k)
    assert B.shape == (5000, nbasis(n, k))
    torch.testing.assert_close(B.sum(-1), torch.ones(5000, dtype=torch.float64), atol=1e-12, rtol=0)
    assert (B >= 0).all()
    nz = B > 0
    assert (nz.sum(-1) <= k + 1).all()
    # non-zero bases are consecutive and the first one is the element containing x
    first = nz.float().argmax(-1)
    cell = torch.clamp(torch.floor(x * n), max=n - 1).long()
    only_cell = nz.sum(-1) == k + 1  # away from knots where an end value is exactly zero
    assert (first[only_cell] == cell[only_cell]).all()

def _derivative(f, x, order):
    "order-th derivative of sum-free elementwise basis function f at points x (float64, via autograd)."
    x = x.clone().requires_grad_(True)
    y = f(x)
    outs = []
    for j in range(y.shape[-1]):
        d = y[..., j]
        for _ in range(order):
            (d,) = torch.autograd.grad(d.sum(), x, create_graph=True)
        outs.append(d.detach())
    return torch.stack(outs, -1)

@pytest.mark.parametrize("n,k", [(4, 1), (4, 2), (5, 3), (3, 4)])
def test_smoothness_C_k_minus_1_across_knots(n, k):
    "Derivatives up to order k-1 are continuous at interior knots; the k-th jumps (so the test can tell)."
    f = lambda x: bspline_basis(x, n, k)
    kn = torch.arange(1, n, dtype=torch.float64) / n
    h = 1e-9
    for order in range(k):
        left, right = _derivative(f, kn - h, order), _derivative(f, kn + h, order)
        scale = 1 + right.abs().max()
        assert (left - right).abs().max() < 1e-5 * scale * n ** order, order
    left, right = _derivative(f, kn - h, k), _derivative(f, kn + h, k)
    assert (left - right).abs().max() > 0.5

def test_local_matrix_rows_sum_to_partition():
    for k in range(6):
        C = np.array(local_basis_matrix(k))
        # at tau=0 the bases sum to 1 and every polynomial's higher coefficients cancel in the sum
        np.testing.assert_allclose(C.sum(1), [1] + [0] * k, atol=1e-12)

def test_out_of_range_is_defined_not_nan():
    x = torch.tensor([-1e30, -3.0, -0.2, 1.2, 3.0, 1e30, float('inf'), float('-inf')])
    for n, k in GRIDS:
        B = bspline_basis(x, n, k)
        assert torch.isfinite(B).all()
    far = bspline_basis(torch.tensor([-5.0, 6.0, float('inf')]), 4, 3)
    assert (far == 0).all()

def test_gradient_finite_everywhere():
    x = torch.tensor([-2.0, -0.1, 0.0, 0.25, 0.5, 1.0, 1.1, 3.0, float('inf')], requires_grad=True)
    bspline_basis(x, 4, 3).pow(2).sum().backward()
    assert torch.isfinite(x.grad).all()

def test_batched_shapes():
    x = torch.rand(3, 5, 7)
    assert bspline_basis(x, 6, 2).shape == (3, 5, 7, 8)

@pytest.mark.parametrize("bad", [dict(nelems=0, degree=2), dict(nelems=3, degree=-1), dict(nelems=2.5, degree=1)])
def test_bad_grid_is_refused(bad):
    with pytest.raises(ValueError, match='nelems|degree'):
        bspline_basis(torch.rand(4), **bad)
