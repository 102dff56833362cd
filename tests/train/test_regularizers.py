"""Each regularizer's loss term on a real micro GPT-2, against values computed by hand."""

from __future__ import annotations

import math

import pytest
import torch

from tripwire.train import EWC, IGNORE, L2SP, Batch, LwF, estimate_fisher, token_loss
from tripwire.train._regularizers import trainable


def _batch(ids: torch.Tensor, valid: torch.Tensor | None = None) -> Batch:
    return Batch(
        ids, ids.clone(), torch.ones_like(ids, dtype=torch.bool) if valid is None else valid, 0
    )


def _penalty(reg, model: torch.nn.Module, ids: torch.Tensor) -> float:
    with torch.no_grad():
        return float(reg.penalty(model, _batch(ids), model(input_ids=ids).logits))


def _nudge(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Move two named weights by known amounts; returns the moves."""
    params = trainable(model)
    moves = {
        "transformer.h.0.ln_1.bias": torch.tensor([0.5, -1.0, 0.0, 2.0]),
        "transformer.ln_f.weight": torch.tensor([0.1, 0.0, -0.3, 0.0]),
    }
    with torch.no_grad():
        for name, move in moves.items():
            params[name] += move
    return moves


def test_l2sp_is_half_alpha_times_squared_distance(micro_model) -> None:
    reg = L2SP(micro_model, alpha=0.3)
    ids = torch.tensor([[1, 2, 3]])
    assert _penalty(reg, micro_model, ids) == 0.0
    _nudge(micro_model)
    # 0.5^2 + 1 + 4 + 0.1^2 + 0.3^2 = 5.35
    got = _penalty(reg, micro_model, ids)
    assert got == pytest.approx(0.5 * 0.3 * 5.35, rel=1e-6)


def test_ewc_weights_each_move_by_its_fisher(micro_model) -> None:
    fisher = {n: torch.ones_like(p) * 2.0 for n, p in trainable(micro_model).items()}
    fisher["transformer.h.0.ln_1.bias"] = torch.tensor([4.0, 0.5, 9.0, 0.25])
    reg = EWC(micro_model, fisher, lam=10.0)
    _nudge(micro_model)
    ids = torch.tensor([[4, 5]])
    # ln_1.bias: 4*0.25 + 0.5*1 + 9*0 + 0.25*4 = 2.5; ln_f.weight: 2*(0.01 + 0.09) = 0.2
    got = _penalty(reg, micro_model, ids)
    assert got == pytest.approx(0.5 * 10.0 * 2.7, rel=1e-6)


def test_ewc_refuses_a_fisher_missing_parameters(micro_model) -> None:
    with pytest.raises(ValueError, match="no entry"):
        EWC(micro_model, {}, lam=1.0)


def test_fisher_is_the_mean_of_per_sample_squared_gradients_in_loss_units(micro_model) -> None:
    # not rescaled: 1/2 F d^2 is the rise of the mean per-token loss, in the task loss's nats
    inputs = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 0, 1]])
    labels = torch.tensor([[2, 3, 4, 5], [6, 7, IGNORE, 9], [10, 0, 1, 2]])
    fisher = estimate_fisher(micro_model, inputs, labels)
    params = trainable(micro_model)
    expected = {n: torch.zeros_like(p) for n, p in params.items()}
    for i in range(3):
        logits = micro_model(input_ids=inputs[i : i + 1]).logits[0]
        keep = labels[i] != IGNORE
        loss = torch.nn.functional.cross_entropy(logits[keep], labels[i][keep])
        grads = torch.autograd.grad(loss, list(params.values()))
        for n, g in zip(params, grads, strict=True):
            expected[n] += g**2 / 3
    for n in params:
        torch.testing.assert_close(fisher[n], expected[n], rtol=1e-4, atol=1e-9)


def test_lwf_is_scaled_kl_to_the_teacher_over_valid_positions() -> None:
    teacher_logits = torch.tensor([[[1.0, 0.0, -1.0], [0.0, 0.0, 0.0], [5.0, 1.0, 2.0]]])
    student_logits = torch.tensor([[[0.0, 1.0, 0.0], [2.0, -1.0, 0.0], [0.0, 0.0, 9.0]]])
    valid = torch.tensor([[True, True, False]])  # the third position is padding
    reg = LwF(lambda ids: teacher_logits, alpha=0.7, temperature=2.0)
    got = float(
        reg.penalty(
            torch.nn.Identity(), _batch(torch.zeros(1, 3, dtype=torch.long), valid), student_logits
        )
    )

    def softmax(xs: list[float]) -> list[float]:
        e = [math.exp(x / 2.0) for x in xs]
        return [v / sum(e) for v in e]

    kls = []
    for pos in range(2):
        p = softmax(teacher_logits[0, pos].tolist())
        q = softmax(student_logits[0, pos].tolist())
        kls.append(sum(a * math.log(a / b) for a, b in zip(p, q, strict=True)))
    assert got == pytest.approx(0.7 * 4.0 * sum(kls) / 2, rel=1e-5)


def test_lwf_is_zero_against_itself(micro_model) -> None:
    ids = torch.tensor([[1, 2, 3, 4]])
    reg = LwF(lambda x: micro_model(input_ids=x).logits, alpha=1.0, temperature=2.0)
    assert _penalty(reg, micro_model, ids) == pytest.approx(0.0, abs=1e-6)


def test_token_loss_ignores_unlabelled_positions() -> None:
    logits = torch.tensor([[[2.0, 0.0], [0.0, 0.0], [9.0, -9.0]]])
    labels = torch.tensor([[0, IGNORE, 1]])
    want = (
        -math.log(math.exp(2) / (math.exp(2) + 1))
        - math.log(math.exp(-9) / (math.exp(9) + math.exp(-9)))
    ) / 2
    assert float(token_loss(logits, labels)) == pytest.approx(want, rel=1e-5)
    assert float(token_loss(logits, torch.full((1, 3), IGNORE))) == 0.0
