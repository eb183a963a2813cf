#!/usr/bin/env python3
"""e2cnn's 45- and 90-degree equivariance errors measured with OUR protocol, so the comparison is like for like.

Protocol (the one `deeplense equivariance` and `R2ConvTests` use):
  * input: our smooth random field (Gaussian-smoothed noise, tapered to the central disk), read from the
    `input.npy` that `deeplense equivariance --save-arrays DIR` writes, together with our group action on it
    (`input_rot45.npy`, `input_rot90.npy`: band-limited three-shear Fourier rotation + cyclic channel shift);
  * layers: lifting 7x7 (1 trivial -> 4 regular C8 fields, padding 3) and regular->regular 5x5 (4 -> 4 regular
    fields, padding 2), freshly initialised (e2cnn's default basis and initialisation, one torch seed per run);
  * error: max |f(g x) - g f(x)| / max |g f(x)| over the pixels inside the central disk of radius 0.5 * min(H, W)/2
    (all pixels for 90 degrees), where g f(x) rotates the output with the SAME three-shear Fourier rotation,
    re-implemented below in float64 (checked against our Swift rotation of the input: max difference printed).

Usage:
  for L in lifting group; do for s in 1 2 3; do
    deeplense equivariance --layer $L --group C8 --size 49 --seed $s --sigma 2 --save-arrays /tmp/eq/$L-$s; done; done
  /work/venv-torch/bin/python bench/reference/e2cnn_equivariance.py /tmp/eq/lifting-1 /tmp/eq/group-1 ...
Each DIR's name must start with `lifting` or `group`. Prints one JSON line per directory and a summary.
"""
import json
import math
import os
import sys

import numpy as np


def rotate_bandlimited(x, angle):
    """Our `FourierRotation` (Unser et al. 1995 three-shear rotation on the 2x zero-padded image), float64."""
    x = np.asarray(x, dtype=np.float64)
    q = angle / (math.pi / 2)
    turns = int(math.copysign(math.floor(abs(q) + 0.5), q))  # Swift's .rounded(): halves away from zero
    residual = angle - turns * math.pi / 2
    x = np.rot90(x, turns, axes=(-2, -1))
    if abs(residual) < 1e-12:
        return np.ascontiguousarray(x)
    h, w = x.shape[-2:]
    side = 2 * max(h, w)
    n = side + side % 2
    r0, c0 = (n - h) // 2, (n - w) // 2
    cy, cx = r0 + (h - 1) / 2, c0 + (w - 1) / 2
    a, b = -math.tan(residual / 2), math.sin(residual)
    k = np.arange(n // 2 + 1)

    def shear_rows(img, shifts):
        phase = np.exp(-2j * math.pi * np.outer(shifts, k) / n)
        phase[:, -1] = np.cos(math.pi * shifts)  # Nyquist bin keeps its real part (real operator)
        return np.fft.irfft(np.fft.rfft(img, axis=-1) * phase, n=n, axis=-1)

    img = np.zeros(x.shape[:-2] + (n, n))
    img[..., r0:r0 + h, c0:c0 + w] = x
    rows = np.arange(n)
    img = shear_rows(img, a * (cy - rows))
    img = np.swapaxes(shear_rows(np.swapaxes(img, -1, -2), -b * (rows - cx)), -1, -2)
    img = shear_rows(img, a * (cy - rows))
    return img[..., r0:r0 + h, c0:c0 + w]


def act(x, rotation, order, regular):
    """Group action of rotation r (angle 2 pi r / N) on [B, C, H, W]: spatial rotation then, for regular
    fields, the cyclic shift rho(g) e_h = e_(g h) of each field's orientation axis."""
    y = rotate_bandlimited(x, 2 * math.pi * rotation / order)
    if regular:
        b, c, hh, ww = y.shape
        y = np.roll(y.reshape(b, c // order, order, hh, ww), rotation, axis=2).reshape(b, c, hh, ww)
    return y


def relative_error(a, b, disk):
    h, w = a.shape[-2:]
    mask = np.ones((h, w), bool)
    if disk is not None:
        radius = disk * min(h, w) / 2
        i, j = np.mgrid[0:h, 0:w]
        mask = (i - (h - 1) / 2) ** 2 + (j - (w - 1) / 2) ** 2 <= radius ** 2
    return float(np.abs(a - b)[..., mask].max() / np.abs(b)[..., mask].max())


def e2cnn_layer(kind, seed):
    import torch
    from e2cnn import gspaces, nn
    torch.manual_seed(seed)
    space = gspaces.Rot2dOnR2(8)
    if kind == "lifting":
        layer = nn.R2Conv(nn.FieldType(space, [space.trivial_repr]), nn.FieldType(space, 4 * [space.regular_repr]),
                          kernel_size=7, padding=3)
    else:
        layer = nn.R2Conv(nn.FieldType(space, 4 * [space.regular_repr]), nn.FieldType(space, 4 * [space.regular_repr]),
                          kernel_size=5, padding=2)
    layer.eval()
    return layer


def main(directories, torch_seeds=(0, 1, 2)):
    import torch
    from e2cnn import nn
    torch.set_num_threads(2)
    summary = {}
    for d in directories:
        kind = "lifting" if os.path.basename(d.rstrip("/")).startswith("lifting") else "group"
        x = np.load(os.path.join(d, "input.npy"))
        row = {"dir": d, "layer": kind}
        for deg, r in ((45, 1), (90, 2)):
            rx = np.load(os.path.join(d, f"input_rot{deg}.npy"))
            row[f"rotation_check_rot{deg}"] = float(np.abs(act(x, r, 8, kind == "group") - rx).max())
            disk = 0.5 if deg == 45 else None
            # our error recomputed from our arrays (must equal the CLI's JSON)
            ours = relative_error(np.load(os.path.join(d, f"output_of_rot{deg}.npy")),
                                  np.load(os.path.join(d, f"rot{deg}_of_output.npy")), disk)
            row[f"ours_rot{deg}"] = ours
            errs = []
            for s in torch_seeds:
                layer = e2cnn_layer(kind, s)
                with torch.no_grad():
                    fx = layer(nn.GeometricTensor(torch.from_numpy(x), layer.in_type)).tensor.double().numpy()
                    frx = layer(nn.GeometricTensor(torch.from_numpy(rx), layer.in_type)).tensor.double().numpy()
                errs.append(relative_error(frx, act(fx, r, 8, True), disk))
            row[f"e2cnn_rot{deg}"] = errs
            summary.setdefault((kind, deg), {"ours": [], "e2cnn": []})
            summary[(kind, deg)]["ours"].append(ours)
            summary[(kind, deg)]["e2cnn"].extend(errs)
        print(json.dumps(row))
    for (kind, deg), v in sorted(summary.items()):
        print(f"{kind:8s} rot{deg}: ours mean {np.mean(v['ours']):.3e} max {np.max(v['ours']):.3e} (n={len(v['ours'])}) | "
              f"e2cnn mean {np.mean(v['e2cnn']):.3e} max {np.max(v['e2cnn']):.3e} (n={len(v['e2cnn'])})")


if __name__ == "__main__":
    main(sys.argv[1:])
