"""Each learner's losses against a direct re-derivation on a fixed batch, written per sample with plain ops, and the
bootstrapping rules at the ends of episodes. These would catch a wrong sign, a missing (1 - d), a swapped min/max or
a loss taken over the wrong dimension, which a learning curve on a short run hides."""
import copy
import math

import numpy as np
import pytest
import torch

from spanrl.cql import CQL, CQLConfig
from spanrl.offline import IQL, IQLConfig
from spanrl.ppo import gae
from spanrl.sac import SACConfig, SACTrainer

OBS, ACT, B = 5, 2, 7

def fixed_batch(E=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    o, o2 = torch.randn(E, B, OBS, generator=g), torch.randn(E, B, OBS, generator=g)
    a = torch.rand(E, B, ACT, generator=g) * 1.8 - 0.9
    r = torch.randn(E, B, generator=g)
    d = (torch.arange(B) % 3 == 0).float().expand(E, B).clone()   # some terminal transitions
    return o, a, r, o2, d

def q_of(net, member, s, a):
    "One critic (`member` of the twin-critic ensemble) at one state-action pair."
    return net.member(member)(torch.cat([s, a])[None])[0, 0]

def test_gae_matches_a_hand_computation():
    # one environment, T = 3, a terminal after step 1 (dones[t] flags that obs t starts a new episode)
    g, lam = 0.9, 0.8
    r = torch.tensor([1.0, 2.0, 3.0]).view(3, 1, 1)
    v = torch.tensor([0.5, 1.0, 1.5]).view(3, 1, 1)
    dones = torch.tensor([0.0, 0.0, 1.0]).view(3, 1, 1)
    last_v, last_done = torch.tensor([[2.0]]), torch.tensor([[0.0]])
    d2 = 3.0 + g * 2.0 - 1.5                      # step 2 bootstraps from the value after the rollout
    d1 = 2.0 - 1.0                                # step 1 ends its episode: no bootstrap, no trace
    d0 = 1.0 + g * 1.0 - 0.5
    a2, a1 = d2, d1
    a0 = d0 + g * lam * a1
    adv, ret = gae(r, v, dones, last_v, last_done, g, lam)
    torch.testing.assert_close(adv.flatten(), torch.tensor([a0, a1, a2]))
    torch.testing.assert_close(ret.flatten(), torch.tensor([a0 + 0.5, a1 + 1.0, a2 + 1.5]))

def test_iql_losses_match_a_direct_derivation():
    small = dict(arch='mlp', hidden=[16, 16])
    cfg = IQLConfig(dataset='spanrl/hopper/medium-v0', actor=small, critic=small, expectile=0.7, beta=3.0, gamma=0.99)
    learner = IQL(cfg, OBS, ACT, 1.0, seeds=[0])
    before = copy.deepcopy(learner.ag)
    o, a, r, o2, d = fixed_batch()
    losses = learner.update((o, a, r, o2, d))
    v_l, q_l, pi_l = [], [], []
    for i in range(B):
        s, act, s2 = o[0, i], a[0, i], o2[0, i]
        q_t = min(q_of(before.q_target, 0, s, act), q_of(before.q_target, 1, s, act))
        v = before.v(s[None])[0, 0]
        u = q_t - v
        v_l.append((0.7 if u > 0 else 0.3) * u ** 2)
        y = r[0, i] + 0.99 * (1 - d[0, i]) * before.v(s2[None])[0, 0]
        q_l.append((q_of(before.q, 0, s, act) - y) ** 2 + (q_of(before.q, 1, s, act) - y) ** 2)
        mean = torch.tanh(before.actor(s[None])[0])
        std = before.log_std[0, 0].clamp(-20, 2).exp()
        logp = torch.distributions.Normal(mean, std).log_prob(act).sum()
        pi_l.append(-min(math.exp(3.0 * u.item()), 100.0) * logp)
    torch.testing.assert_close(losses['v_loss'], torch.stack(v_l).mean(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(losses['q_loss'], torch.stack(q_l).mean(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(losses['pi_loss'], torch.stack(pi_l).mean(), rtol=1e-5, atol=1e-6)

def test_iql_deterministic_actor_regresses_onto_the_data():
    small = dict(arch='mlp', hidden=[16, 16])
    learner = IQL(IQLConfig(actor=small, critic=small, deterministic_actor=True), OBS, ACT, 1.0, seeds=[0])
    before = copy.deepcopy(learner.ag)
    o, a, r, o2, d = fixed_batch()
    losses = learner.update((o, a, r, o2, d))
    adv = before.q_values(before.q_target, o, a).min(1).values - before.v(o)[..., 0]
    w = torch.exp(3.0 * adv).clamp(max=100.0)
    expected = (w * ((torch.tanh(before.actor(o)) - a) ** 2).sum(-1)).mean()
    torch.testing.assert_close(losses['pi_loss'], expected, rtol=1e-5, atol=1e-6)

def tanh_gaussian(ag, s, eps):
    "CORL's tanh-Gaussian sample and log-prob for one state from its standard-normal draw `eps`."
    mean, log_std = ag.actor(s[None])[0].chunk(2)
    log_std = (log_std - 1.0).clamp(-20, 2)
    x = mean + log_std.exp() * eps
    logp = torch.distributions.Normal(mean, log_std.exp()).log_prob(x).sum() - torch.log(1 - torch.tanh(x) ** 2 + 1e-6).sum()
    return torch.tanh(x), logp

@pytest.mark.parametrize('n_actions', [1, 3])
def test_cql_losses_match_a_direct_derivation(n_actions):
    small = dict(arch='mlp', hidden=[16, 16])
    cfg = CQLConfig(actor=small, critic=small, n_actions=n_actions, cql_alpha=5.0, temperature=1.0, gamma=0.99)
    learner = CQL(cfg, OBS, ACT, 1.0, seeds=[0])
    before = copy.deepcopy(learner.ag)
    gen_state = learner.ag.gens[0].get_state()
    o, a, r, o2, d = fixed_batch()
    losses = learner.update((o, a, r, o2, d))
    after_actor = learner.ag                        # the actor steps first; the critic losses use the stepped actor
    g = torch.Generator(); g.set_state(gen_state)   # replay the same draws, in the update's order
    eps_o, eps_o2 = torch.randn(B, ACT, generator=g), torch.randn(B, ACT, generator=g)
    u = torch.rand(B * n_actions, ACT, generator=g)
    eps_cur, eps_nxt = torch.randn(B * n_actions, ACT, generator=g), torch.randn(B * n_actions, ACT, generator=g)
    pi_l, bell, gaps = [], [], [[], []]
    for i in range(B):
        s, act, s2 = o[0, i], a[0, i], o2[0, i]
        pa, logp = tanh_gaussian(before, s, eps_o[i])
        qmin = min(q_of(before.q, 0, s, pa), q_of(before.q, 1, s, pa))
        pi_l.append(1.0 * logp - qmin)               # alpha = exp(0) before the temperature's first step
        a2, _ = tanh_gaussian(after_actor, s2, eps_o2[i])
        y = r[0, i] + 0.99 * (1 - d[0, i]) * min(q_of(before.q_target, 0, s2, a2), q_of(before.q_target, 1, s2, a2))
        for j in (0, 1):
            qj = q_of(before.q, j, s, act)
            bell.append((qj - y) ** 2)
            terms = []
            for k in range(n_actions):
                row = i * n_actions + k
                terms.append(q_of(before.q, j, s, u[row] * 2 - 1) + ACT * math.log(2.0))        # uniform on [-1, 1]^A
                ac, lc = tanh_gaussian(after_actor, s, eps_cur[row]); terms.append(q_of(before.q, j, s, ac) - lc)
                an, ln = tanh_gaussian(after_actor, s2, eps_nxt[row]); terms.append(q_of(before.q, j, s, an) - ln)
            gaps[j].append(torch.logsumexp(torch.stack(terms), 0) - qj)
    gap = torch.stack([torch.stack(gaps[0]).mean(), torch.stack(gaps[1]).mean()])
    q_loss = torch.stack(bell).view(B, 2).mean(0).sum() + 5.0 * gap.sum()
    torch.testing.assert_close(losses['pi_loss'], torch.stack(pi_l).mean(), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(losses['cql_gap'], gap.mean(), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(losses['q_loss'], q_loss, rtol=1e-4, atol=1e-5)

def test_sac_bootstraps_at_truncation_and_not_at_termination():
    # Pendulum-v1 never terminates and is truncated at 200 steps: the transition that ends the episode is stored
    # with d = 0 and its true final state (not the next episode's first), so the critic bootstraps through it.
    cfg = SACConfig(env_id='Pendulum-v1', total_steps=250, learning_starts=1_000, eval_every=10_000, eval_episodes=1,
                    net=dict(hidden=[8]))
    tr = SACTrainer(cfg, seeds=[0]).run(until=250, progress=False)
    tr.close()
    rb = tr.rb
    assert rb.term[0, :250].sum() == 0
    assert not torch.allclose(rb.next_obs[0, 199], rb.obs[0, 200])           # final state kept, not the reset state
    torch.testing.assert_close(rb.next_obs[0, :199], rb.obs[0, 1:200])         # within an episode, s' is the next s
    # InvertedPendulum-v5 terminates when the pole falls: those transitions are stored with d = 1
    cfg = SACConfig(env_id='InvertedPendulum-v5', total_steps=200, learning_starts=1_000, eval_every=10_000,
                    eval_episodes=1, net=dict(hidden=[8]))
    tr = SACTrainer(cfg, seeds=[0]).run(until=200, progress=False)
    tr.close()
    ends = np.flatnonzero(tr.rb.term[0, :200].numpy())
    assert len(ends) >= 2                                                    # random actions drop the pole quickly
    for t in ends[:-1]: assert not torch.allclose(tr.rb.next_obs[0, t], tr.rb.obs[0, t + 1])
