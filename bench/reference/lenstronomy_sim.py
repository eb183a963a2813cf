#!/usr/bin/env python3
"""lenstronomy reference for the Bench cases `simulate-150` and `simulate-64` (Sources/Bench/NetworkCases.swift):
images/s for Model-A-like CDM images, written in the Bench JSON layout so compare.py joins them on the name.

Configuration (the same as our `simulate-<side>` case, which renders CDM-class Model A images):
  simulate-150  150x150 at 0.05"/px;  simulate-64  64x64 at 0.1"/px
  2x2 supersampling, SIS (theta_E 1.2") + external shear (0-0.03), Poisson(25) TNFW subhalos at 0.25-2",
  elliptical Sersic source (n 1-1.5, R_e 0.25-0.5", q 0.7-1, offset up to 0.35"), Gaussian PSF sigma 0.1"
  (lenstronomy's pixel-kernel convolution), Poisson (1000 counts per unit) + Gaussian (SNR 25) noise.
Each timed run renders --images images split over --processes worker processes (default 2, the thread
count of our Bench; numpy/scipy pinned to one thread per process), after one untimed warm-up image per worker.
Median and min of --repeats runs are reported. Never run in CI.

Run in a virtual environment OUTSIDE the repository:
    python3 -m venv /work/venv-lens && /work/venv-lens/bin/pip install lenstronomy
    /work/venv-lens/bin/python bench/reference/lenstronomy_sim.py --sizes 150 64 --images 16 --repeats 3 --json lens.json
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import time

import numpy as np
from lenstronomy.Data.imaging_data import ImageData
from lenstronomy.Data.psf import PSF
from lenstronomy.ImSim.image_model import ImageModel
from lenstronomy.LensModel.lens_model import LensModel
from lenstronomy.LightModel.light_model import LightModel


def simulate(rng, image_model_cache):
    n_sub = rng.poisson(25)
    lens_names = ["SIS", "SHEAR"] + ["TNFW"] * n_sub
    gamma, phi = rng.uniform(0, 0.03), rng.uniform(0, np.pi)
    kwargs_lens = [{"theta_E": 1.2, "center_x": 0.0, "center_y": 0.0},
                   {"gamma1": gamma * np.cos(2 * phi), "gamma2": gamma * np.sin(2 * phi)}]
    for _ in range(n_sub):
        r = np.sqrt(rng.uniform(0.25 ** 2, 2.0 ** 2))
        a = rng.uniform(0, 2 * np.pi)
        rs = rng.uniform(0.01, 0.1)
        kwargs_lens.append({"Rs": rs, "alpha_Rs": rng.uniform(1e-4, 1e-2), "r_trunc": 0.5 * rs,
                            "center_x": r * np.cos(a), "center_y": r * np.sin(a)})
    q, pa = rng.uniform(0.7, 1.0), rng.uniform(0, np.pi)
    c = (1 - q) / (1 + q)
    off, oa = rng.uniform(0, 0.35), rng.uniform(0, 2 * np.pi)
    kwargs_source = [{"amp": 1.0, "R_sersic": rng.uniform(0.25, 0.5), "n_sersic": rng.uniform(1, 1.5),
                      "e1": c * np.cos(2 * pa), "e2": c * np.sin(2 * pa),
                      "center_x": off * np.cos(oa), "center_y": off * np.sin(oa)}]
    data, psf, source = image_model_cache
    model = ImageModel(data_class=data, psf_class=psf, lens_model_class=LensModel(lens_names),
                       source_model_class=source,
                       kwargs_numerics={"supersampling_factor": 2, "supersampling_convolution": False})
    image = model.image(kwargs_lens=kwargs_lens, kwargs_source=kwargs_source)
    image = image / image.max()
    sigma = 1.0 / 25
    counts = 1000.0
    return rng.poisson(np.clip(image, 0, None) * counts) / counts + rng.normal(0, sigma, image.shape)


def _render(cache, count, seed):
    """Worker body: render `count` images with its own random stream."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        simulate(rng, cache)


def timed_run(ctx, cache, counts, seed):
    """Wall seconds to render `sum(counts)` images in `len(counts)` forked processes (one per entry)."""
    t0 = time.perf_counter()
    workers = [ctx.Process(target=_render, args=(cache, n, seed + i)) for i, n in enumerate(counts)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - t0


def setup(side):
    pix = 0.05 if side == 150 else 0.1
    data = ImageData(image_data=np.zeros((side, side)), ra_at_xy_0=-(side - 1) / 2 * pix,
                     dec_at_xy_0=-(side - 1) / 2 * pix, transform_pix2angle=np.array([[pix, 0], [0, pix]]))
    psf = PSF(psf_type="GAUSSIAN", fwhm=0.1 * 2.3548, pixel_size=pix, truncation=4)
    return data, psf, LightModel(["SERSIC_ELLIPSE"])


def main():
    import json
    import multiprocessing
    import platform
    import statistics

    import lenstronomy
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[150, 64])
    parser.add_argument("--images", type=int, default=16, help="images per timed run (split over the processes)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    results = []
    ctx = multiprocessing.get_context("fork")
    for side in args.sizes:
        cache = setup(side)
        simulate(np.random.default_rng(0), cache)  # warm-up in the parent, inherited by the forked workers
        per = [args.images // args.processes + (1 if i < args.images % args.processes else 0)
               for i in range(args.processes)]
        times = [timed_run(ctx, cache, per, 100 * r) for r in range(args.repeats)]
        med = statistics.median(times)
        name = f"simulate-{side}"
        results.append({"name": name, "median_seconds": med, "min_seconds": min(times), "repeats": len(times),
                        "gflops": None, "images_per_second": args.images / med, "images": args.images,
                        "peak_memory_bytes": None})
        print(f"{name}: {args.images} images per run over {args.processes} processes, median {med:.3f} s, "
              f"min {min(times):.3f} s: {args.images / med:.2f} images/s", flush=True)
    if args.json:
        machine = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                   "processes": args.processes, "lenstronomy": lenstronomy.__version__, "numpy": np.__version__,
                   "hostname": platform.node(), "library": "lenstronomy"}
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "cases": results}, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
