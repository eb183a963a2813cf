"""Optional reference: simulate a Model-A-like CDM image with lenstronomy and measure images/s.

Equivalent to `deeplense simulate --domain A --size 150` for the CDM class: 150x150 at 0.05"/px, 2x2
supersampling, SIS (theta_E 1.2") + external shear, 25 TNFW subhalos within 0.25-2", elliptical Sersic source,
Gaussian PSF sigma 0.1" (FFT convolution), Poisson + Gaussian background noise. Single process (one core).

Run in a virtual environment OUTSIDE the repository:
    python3 -m venv /work/venv-lens && /work/venv-lens/bin/pip install lenstronomy
    /work/venv-lens/bin/python bench/reference/lenstronomy_sim.py --count 20
"""
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20)
    args = parser.parse_args()
    n, pix = 150, 0.05
    data = ImageData(image_data=np.zeros((n, n)), ra_at_xy_0=-(n - 1) / 2 * pix, dec_at_xy_0=-(n - 1) / 2 * pix,
                     transform_pix2angle=np.array([[pix, 0], [0, pix]]))
    psf = PSF(psf_type="GAUSSIAN", fwhm=0.1 * 2.3548, pixel_size=pix, truncation=4)
    cache = (data, psf, LightModel(["SERSIC_ELLIPSE"]))
    rng = np.random.default_rng(0)
    simulate(rng, cache)
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(args.count):
        simulate(rng, cache)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"lenstronomy: {args.count} images 150x150 (2x2 supersampling, ~25 TNFW subhalos) in {seconds:.2f} s: "
          f"{args.count / seconds:.2f} images/s wall, {1000 * cpu / args.count:.1f} ms CPU per image")


if __name__ == "__main__":
    main()
