"""CUDA-event timing shared by the PyTorch reference scripts in bench/torch/."""
import torch


def median_ms(fn, iterations: int = 20) -> float:
    """Median milliseconds of `fn` over `iterations` runs after 3 warm-up runs, timed with CUDA events."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iterations):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    times.sort()
    return times[len(times) // 2]
