"""Online agents: seeds as ensemble members, per-member clipping, bad parameters refused before training, and a PPO or
SAC run killed with SIGKILL resuming to the uninterrupted result."""
import json, os, signal, subprocess, sys, time
import pytest
import torch

from spanrl.ppo import PPOConfig, train_ppo
from spanrl.nets import clip_grad_norm_per_member
from spanrl.sac import SACConfig, train_sac
from spanrl.nets import make_net

def test_per_member_clipping_equals_torch_clipping_member_by_member():
    torch.manual_seed(0)
    net = make_net('mlp', 3, 2, ensemble=3)
    net(torch.randn(3, 8, 3)).pow(2).sum().mul(100).backward()
    expected = []
    for i in range(3):
        grads = [p.grad[i].clone() for p in net.parameters()]
        norm = torch.sqrt(sum(g.pow(2).sum() for g in grads))
        expected.append([g * min(1.0, 0.5 / (norm.item() + 1e-6)) for g in grads])
    clip_grad_norm_per_member(list(net.parameters()), 0.5)
    for i in range(3):
        for p, g in zip(net.parameters(), expected[i]): torch.testing.assert_close(p.grad[i], g)

@pytest.mark.parametrize('arch', ['mlp', 'span'])
def test_ppo_continuous_two_seeds_reproduce_separate_runs(arch):
    cfg = dict(env_id='Pendulum-v1', total_steps=512, n_envs=2, n_steps=64, eval_every=256, eval_episodes=1, arch=arch,
               net=dict(hidden=[16]) if arch == 'mlp' else dict(nmodes=2, nelems=3, degree=2))
    both = train_ppo(PPOConfig(**cfg), seeds=[4, 9], progress=False)
    alone = train_ppo(PPOConfig(**cfg), seeds=[9], progress=False)
    torch.testing.assert_close(torch.tensor([c[1][1] for c in both['curve']]), torch.tensor([c[1][0] for c in alone['curve']]),
                               rtol=1e-3, atol=1e-2)
    for p, q in zip(both['policy'].parameters(), alone['policy'].parameters()):
        torch.testing.assert_close(p[1], q[0], rtol=1e-4, atol=1e-4)

def test_sac_span_two_seeds_reproduce_separate_runs():
    cfg = dict(env_id='InvertedPendulum-v5', total_steps=200, learning_starts=50, batch_size=16, eval_every=100,
               eval_episodes=1, arch='span', net=dict(nmodes=2, nelems=3, degree=2))
    both = train_sac(SACConfig(**cfg), seeds=[1, 2], progress=False)
    alone = train_sac(SACConfig(**cfg), seeds=[2], progress=False)
    for p, q in zip(both['agent'].q.parameters(), alone['agent'].q.parameters()):
        torch.testing.assert_close(p[2:], q, rtol=1e-4, atol=1e-4)

@pytest.mark.parametrize('make,message', [
    (lambda: PPOConfig(env_id='CartPol-v1'), "unknown environment id 'CartPol-v1'"),
    (lambda: PPOConfig(total_steps=-100), 'total_steps must be a positive integer'),
    (lambda: PPOConfig(n_envs=3, n_steps=5, n_minibatches=4), 'must divide into n_minibatches'),
    (lambda: SACConfig(env_id='CartPole-v1'), 'discrete action space; use PPO'),
    (lambda: SACConfig(env_id='Hopper-v5', total_steps=0), 'total_steps must be a positive integer'),
    (lambda: SACConfig(env_id='Hopper-v5', learning_starts=-1), 'learning_starts must be a non-negative integer'),
])
def test_bad_parameters_fail_fast_before_training(make, message):
    t = time.perf_counter()
    train = train_ppo if isinstance(make(), PPOConfig) else train_sac
    with pytest.raises(ValueError, match=message.replace('(', r'\(').replace(')', r'\)')):
        train(make(), seeds=[0], progress=False)
    assert time.perf_counter() - t < 5

RESUMABLE = {
    'ppo': """
import json, sys
from spanrl.ppo import PPOConfig, train_ppo
cfg = PPOConfig(total_steps=8192, n_envs=2, n_steps=128, eval_every=512, eval_episodes=1)
out = train_ppo(cfg, [0, 1], progress=False, checkpoint=sys.argv[1] if len(sys.argv) > 1 else None)
print(json.dumps(dict(curve=out['curve'], losses=out['losses'], train_returns=out['train_returns'])))
""",
    'sac': """
import json, sys
from spanrl.sac import SACConfig, train_sac
cfg = SACConfig(env_id='InvertedPendulum-v5', total_steps=1500, learning_starts=100, batch_size=32, eval_every=100,
                eval_episodes=1, net=dict(hidden=[32, 32]))
out = train_sac(cfg, [0, 1], progress=False, checkpoint=sys.argv[1] if len(sys.argv) > 1 else None)
print(json.dumps(dict(curve=out['curve'], losses=out['losses'], train_returns=out['train_returns'])))
""",
}

@pytest.mark.parametrize('algo', ['ppo', 'sac'])
def test_online_run_killed_with_sigkill_resumes_to_the_uninterrupted_result(tmp_path, algo):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    run = lambda *a: subprocess.run([sys.executable, '-c', RESUMABLE[algo], *a], env=env, capture_output=True, text=True, timeout=600)
    whole = run()
    assert whole.returncode == 0, whole.stderr[-2000:]
    ck = tmp_path / f'{algo}.pt'
    p = subprocess.Popen([sys.executable, '-c', RESUMABLE[algo], str(ck)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and not ck.exists(): time.sleep(0.05)
    time.sleep(0.5)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    saved = torch.load(ck, weights_only=False)
    at = saved['steps'] if algo == 'ppo' else saved['trainer']['step']
    total = 8192 if algo == 'ppo' else 1500
    assert 0 < at < total, 'the kill should land after the first checkpoint and before the end'
    resumed = run(str(ck))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = json.loads(whole.stdout), json.loads(resumed.stdout)
    assert b == a
