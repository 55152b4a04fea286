"The network contract: shapes, parameter counts, ensemble independence, stability, bad input."
import pytest
import torch

from spanrl.nets import KAN, MLP, NETS, SPAN, count_params, make_net, signed_log_product

ARCHS = sorted(NETS)

def test_paper_parameter_counts():
    assert count_params(make_net('mlp', 17, 12, hidden=[256])) == 7692
    assert count_params(make_net('kan', 17, 6, hidden=[6], linear_out=True)) == 1062
    # efficient-KAN: 10 parameters per edge at grid 5, order 3 (8 spline coefficients, base weight, spline scale)
    assert count_params(make_net('kan', 17, 6)) == 17 * 6 * 10

def test_span_parameter_count_is_linear_in_dimension():
    M, n, k, out = 10, 6, 2, 3
    for d in (4, 8, 40):
        net = make_net('span', d, out, width=d, nmodes=M, nelems=n, degree=k)
        assert count_params(net) == (d * d + d) + d * (n + k) * M + (M * out + out)

@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("E", [1, 4])
def test_shapes(arch, E):
    net = make_net(arch, 7, 3, ensemble=E)
    assert net(torch.randn(E, 11, 7)).shape == (E, 11, 3)
    if E == 1: assert net(torch.randn(11, 7)).shape == (11, 3)
    assert count_params(net) * E == sum(p.numel() for p in net.parameters())

@pytest.mark.parametrize("arch", ARCHS)
def test_members_are_independent(arch):
    torch.manual_seed(1)
    E = 4
    net, x = make_net(arch, 5, 2, ensemble=E), torch.randn(E, 16, 5)
    y = net(x)
    for i in range(E):
        torch.testing.assert_close(net.member(i)(x[i]), y[i], atol=1e-5, rtol=1e-5)
    y[2].pow(2).mean().backward()
    for name, p in net.named_parameters():
        others = torch.cat([p.grad[:2].flatten(), p.grad[3:].flatten()])
        assert (others == 0).all(), name
        assert p.grad[2].abs().sum() > 0, name

@pytest.mark.parametrize("arch", ARCHS)
def test_seeded_members_do_not_depend_on_ensemble_size(arch):
    pair, single = make_net(arch, 5, 2, seeds=[10, 11]), make_net(arch, 5, 2, seeds=[11])
    for p, q in zip(pair.parameters(), single.parameters()):
        assert torch.equal(p[1], q[0])
    a, b = make_net(arch, 5, 2, seeds=[10]), make_net(arch, 5, 2, seeds=[11])
    assert any(not torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))

def test_span_starts_near_one_and_is_stable_in_40_dims():
    torch.manual_seed(0)
    net = make_net('span', 40, 1, width=40, nmodes=16, nelems=6, degree=2, ensemble=2)
    x = torch.randn(2, 256, 40) * 3
    u = torch.sigmoid(net.pre(x)).transpose(1, 2)
    from spanrl.splines import bspline_basis
    g = torch.matmul(bspline_basis(u, 6, 2), net.spline_weight)
    modes = signed_log_product(g, 1)
    ref = g.double().prod(1)  # float64 reference (tests may use prod; the network must not)
    torch.testing.assert_close(modes.double(), ref, rtol=2e-5, atol=1e-30)
    assert 0.2 < modes.abs().median() < 5  # products of 40 factors near 1 start near 1
    y = net(x.requires_grad_())
    y.sum().backward()
    assert torch.isfinite(y).all() and torch.isfinite(x.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())

def test_signed_log_product_extreme_factors():
    g = torch.tensor([[1e-20] * 20 + [1e20] * 20, [-3.0] * 40], dtype=torch.float32)
    out = signed_log_product(g, 1)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[0], torch.tensor(1.0), rtol=1e-4, atol=0)  # direct float32 product under/overflows
    torch.testing.assert_close(out[1].double(), torch.tensor(3.0 ** 40, dtype=torch.float64), rtol=1e-4, atol=0)

def test_span_does_not_call_tensor_prod():
    "Tensor.prod's backward synchronises with the host and breaks CUDA-graph capture."
    from torch.overrides import TorchFunctionMode
    seen = []
    class Spy(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append(getattr(func, '__name__', str(func)))
            return func(*args, **(kwargs or {}))
    net = make_net('span', 6, 2, ensemble=3)
    x = torch.randn(3, 8, 6)
    with Spy():
        net(x).sum().backward()
    assert seen and not any('prod' in name for name in seen), sorted(set(seen))

def test_kan_matches_efficient_kan_formula():
    "y = silu(x) W_b + sum_j B_j(x) (c_j * s): rebuilt by hand from the layer's own weights."
    from spanrl.splines import bspline_basis
    torch.manual_seed(0)
    net = make_net('kan', 3, 2, grid=5, order=3)
    layer = net.layers[0]
    x = torch.rand(10, 3) * 2 - 1
    B = bspline_basis((x + 1) / 2, 5, 3)  # grid_range [-1, 1]
    ref = torch.nn.functional.silu(x) @ layer.base_weight[0] \
        + torch.einsum('bik,iko,io->bo', B, layer.spline_weight[0], layer.spline_scaler[0])
    torch.testing.assert_close(net(x), ref, atol=1e-5, rtol=1e-5)

def test_mlp_matches_torch_linear_stack():
    net = make_net('mlp', 4, 3, hidden=[8], activation='tanh')
    x = torch.randn(5, 4)
    w1, b1 = net.layers[0].weight[0], net.layers[0].bias[0]
    w2, b2 = net.layers[1].weight[0], net.layers[1].bias[0]
    torch.testing.assert_close(net(x), torch.tanh(x @ w1 + b1) @ w2 + b2)

@pytest.mark.parametrize("arch", ARCHS)
def test_wrong_input_width_is_one_clear_error(arch):
    net = make_net(arch, 17, 6)
    with pytest.raises(ValueError, match=r"input has 5 features .* expected in_dim=17"):
        net(torch.randn(4, 5))

@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("bad", [float('nan'), float('inf')])
def test_non_finite_input_is_one_clear_error(arch, bad):
    net = make_net(arch, 3, 1)
    x = torch.zeros(4, 3); x[2, 1] = bad
    with pytest.raises(ValueError, match="1 non-finite value"):
        net(x)

def test_wrong_ensemble_and_rank():
    net = make_net('mlp', 3, 1, ensemble=2)
    with pytest.raises(ValueError, match="3 ensemble members in dimension 0, expected 2"):
        net(torch.randn(3, 4, 3))
    with pytest.raises(ValueError, match="x.expand"):
        net(torch.randn(4, 3))
    with pytest.raises(ValueError, match="expects input of shape"):
        net(torch.randn(2, 4, 3, 1))
    with pytest.raises(TypeError, match="floating-point"):
        net(torch.ones(2, 4, 3, dtype=torch.long))

def test_unknown_kind_and_bad_options():
    with pytest.raises(ValueError, match="unknown network arch 'transformer'; choose one of mlp, resmlp, span, kan"):
        make_net('transformer', 3, 1)
    with pytest.raises(ValueError, match="unknown option"):
        make_net('mlp', 3, 1, nmodes=4)
    with pytest.raises(ValueError, match="ensemble must be a positive integer"):
        make_net('mlp', 3, 1, ensemble=0)
    with pytest.raises(ValueError, match="unknown activation"):
        make_net('mlp', 3, 1, activation='swishy')
    with pytest.raises(ValueError, match="nelems"):
        make_net('span', 3, 1, nelems=0)

def test_check_can_be_disabled_for_hot_loops():
    net = make_net('mlp', 3, 1, check_inputs=False)
    assert torch.isnan(net(torch.full((2, 3), float('nan')))).all()

def test_kan_equals_efficient_kan_reference_with_same_weights():
    "The peer implementation (efficient-KAN, vendored by kan-gpt) computes the same function from the same weights."
    from kan_gpt.efficient_kan.model import KANLinear  # (its KAN wrapper passes grid as spline_order: use the layer)
    torch.manual_seed(0)
    ref = torch.nn.Sequential(KANLinear(5, 7, grid_size=5, spline_order=3), KANLinear(7, 3, grid_size=5, spline_order=3))
    ours = make_net('kan', 5, 3, hidden=[7], grid=5, order=3)
    with torch.no_grad():
        for a, b in zip(ours.layers, ref):
            a.base_weight[0].copy_(b.base_weight.T)
            a.spline_weight[0].copy_(b.spline_weight.permute(1, 2, 0))
            a.spline_scaler[0].copy_(b.spline_scaler.T)
    x = torch.rand(64, 5) * 2.4 - 1.2  # also outside the grid range, where both give the extended-knot spline
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)
    assert count_params(ours) == sum(p.numel() for p in ref.parameters())

def _member_counts(build):
    "count_params of a module built for 1 and for 3 seeds, and the numel of the one-seed module's trainable parameters."
    one, three = build([0]), build([0, 1, 2])
    return count_params(one), count_params(three), sum(p.numel() for p in one.parameters() if p.requires_grad)

def _spin_builders():
    from spanrl.asm import ActionStructureModel, seeded
    from spanrl.spin import FactoredConfig, make_actor
    cards = (3, 3, 3, 3)
    cfg = lambda actor: FactoredConfig(actor=actor, d_model=16, heads=2, blocks=1, head_hidden=8, mlp_hidden=[16], ar_hidden=16,
                                       ar_state_embed=8, ar_action_embed=4, ar_layers=1)
    builders = {f'actor {a}': (lambda a: lambda seeds: make_actor(cfg(a), 5, cards, seeds))(a) for a in ('mlp', 'ar', 'saint', 'spin')}
    builders['asm'] = lambda seeds: seeded(lambda E: ActionStructureModel(5, cards, 16, 2, 1, 8, 0.1, 2, E), seeds)
    return builders

@pytest.mark.parametrize('name', list(_spin_builders()) + [f'make_net {a}' for a in ARCHS])
def test_parameter_counts_are_per_member(name):
    "Every module built per seed reports one member's parameters, whatever the number of seeds (a record's params columns)."
    build = _spin_builders()[name] if name in _spin_builders() else (lambda seeds: make_net(name.split()[1], 5, 3, seeds=seeds))
    one, three, numel = _member_counts(build)
    assert one == three == numel, (name, one, three, numel)
