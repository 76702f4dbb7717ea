"""PyTorch reference timings for radlearn's self-distillation kernels (bench/cases/distill.ts),
for a GPU machine with torch installed (not run in CI). Times the DINO loss forward + backward
wrt the student (teacher softmax with centering, center update included) written the way the
DINO/DINOv2 reference code does it, and KoLeo forward + backward, with CUDA events. Compare with
the `cuda (events)` rows of `npm run bench -- --filter distill`.

    python bench/torch/distill.py
"""
import torch
import torch.nn.functional as F

from timing import median_ms  # bench/torch/timing.py (the script's folder is on sys.path)



def dino_step(student, teacher, center, vs: int, vt: int, tau_s=0.1, tau_t=0.04, m=0.9):
    # As DINO's DINOLoss.forward: teacher softmax with centering, CE over pairs i != j.
    student.grad = None
    s = (student / tau_s).chunk(vs)
    t = F.softmax((teacher - center) / tau_t, dim=-1).detach().chunk(vt)
    loss, pairs = 0.0, 0
    for i, ti in enumerate(t):
        for j, sj in enumerate(s):
            if i == j:
                continue
            loss = loss + torch.sum(-ti * F.log_softmax(sj, dim=-1), dim=-1).mean()
            pairs += 1
    loss = loss / pairs
    loss.backward()
    with torch.no_grad():
        center.mul_(m).add_(teacher.mean(dim=0, keepdim=True), alpha=1 - m)
    return loss


def koleo_step(x):
    x.grad = None
    y = F.normalize(x, eps=1e-8, p=2, dim=-1)
    with torch.no_grad():
        dots = y @ y.t()
        dots.view(-1)[:: y.shape[0] + 1].fill_(-1)
        nn = dots.argmax(dim=1)
    d = torch.linalg.vector_norm(y - y[nn], dim=-1)
    loss = -torch.log(d + 1e-8).mean()
    loss.backward()
    return loss


def bench_dino(vs: int, vt: int, b: int, k: int) -> None:
    student = torch.randn(vs * b, k, device="cuda", requires_grad=True)
    teacher = torch.randn(vt * b, k, device="cuda")
    center = torch.zeros(1, k, device="cuda")
    ms = median_ms(lambda: dino_step(student, teacher, center, vs, vt))
    print(f"torch DINO loss fwd+bwd Vs={vs} Vt={vt} B={b} K={k}: {ms:.3f} ms")


def bench_koleo(b: int, d: int) -> None:
    x = torch.randn(b, d, device="cuda", requires_grad=True)
    ms = median_ms(lambda: koleo_step(x))
    print(f"torch KoLeo fwd+bwd B={b} D={d}: {ms:.3f} ms ({2 * b * b * d / ms / 1e6:.1f} GFLOP/s search)")


if __name__ == "__main__":
    torch.backends.cuda.matmul.allow_tf32 = False
    bench_dino(10, 2, 64, 65536)
    bench_dino(10, 2, 256, 4096)
    bench_koleo(1024, 256)
