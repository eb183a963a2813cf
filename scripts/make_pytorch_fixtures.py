"""Writes the PyTorch fixture the Backbones tests compare against.

Run (torch and safetensors in a venv outside the repository):
    python scripts/make_pytorch_fixtures.py Tests/BackbonesTests/Fixtures
    python scripts/make_pytorch_fixtures.py --check-resnet W.safetensors [IMAGES.npy FEATURES.npy]
The second form loads a ResNet18 state dict saved by this library into PyTorch (strict) and, given the input and
output of `deeplense features`, compares the features.

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


class ResNet18(nn.Module):
    """torchvision.models.resnet18 with the DeepLense changes (1-channel stem, fc 512 -> 256), same attribute names."""

    def __init__(self, features=256):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        planes, layers = 64, []
        for i, width in enumerate([64, 128, 256, 512]):
            stride = 1 if i == 0 else 2
            layers.append(nn.Sequential(BasicBlock(planes, width, stride), BasicBlock(width, width, 1)))
            planes = width
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, features)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def check_resnet(weights, images=None, features=None):
    """Loads a ResNet18 state dict written by `Module.stateDict()` + `Safetensors.write` (strict) and, given
    `deeplense features` input and output .npy files, compares PyTorch's features with ours."""
    from safetensors.torch import load_file
    model = ResNet18()
    missing, unexpected = model.load_state_dict(load_file(weights), strict=True)
    print("loaded", weights, "into PyTorch ResNet18 (strict):", len(model.state_dict()), "tensors")
    if images:
        import numpy as np
        model.eval()
        with torch.no_grad():
            ours = torch.from_numpy(np.load(features))
            theirs = model(torch.from_numpy(np.load(images)).float())
        err = (ours - theirs).abs().max() / theirs.abs().max()
        print("max relative feature difference, ours vs PyTorch:", float(err))


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
    if len(sys.argv) > 1 and sys.argv[1] == "--check-resnet":
        check_resnet(*sys.argv[2:5])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "Tests/BackbonesTests/Fixtures")
