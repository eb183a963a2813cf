"""Writes the PyTorch fixture the Backbones tests compare against.

Run (torch and safetensors in a venv outside the repository):
    python scripts/make_pytorch_fixtures.py Tests/BackbonesTests/Fixtures

The block below is torchvision's BasicBlock (torchvision/models/resnet.py) with the same attribute names, so its
state_dict keys are torchvision's. Weights and batch-norm statistics are random (not the initialisation) so that
every parameter matters; the block runs in eval mode.
"""
import sys

import torch
from safetensors.torch import save_file
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


def main(out_dir):
    torch.manual_seed(20261129)
    block = BasicBlock(8, 16, 2)
    with torch.no_grad():
        for name, t in block.state_dict().items():
            if name.endswith("running_var"):
                t.copy_(torch.rand_like(t) + 0.5)
            elif name.endswith("num_batches_tracked"):
                t.fill_(7)
            elif t.is_floating_point():
                t.copy_(torch.randn_like(t) * 0.3)
    block.eval()
    x = torch.randn(2, 8, 11, 10)
    with torch.no_grad():
        y = block(x)
    tensors = {f"block.{k}": v.contiguous() for k, v in block.state_dict().items()}
    tensors["input"] = x
    tensors["output"] = y
    save_file(tensors, f"{out_dir}/basic_block.safetensors", metadata={"torch": torch.__version__})
    print("wrote", f"{out_dir}/basic_block.safetensors", "output", tuple(y.shape), "torch", torch.__version__)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/BackbonesTests/Fixtures")
