#!/usr/bin/python3
"""Export a torchvision model's weights for `fer import-weights`.

Step 1 of using ImageNet weights in fer (step 2: `fer import-weights`, see docs/configs.md).
Builds a torchvision model (resnet18, vgg19_bn or vit_b_16) and saves
`model.state_dict()` with torch.save, exactly as PyTorch users save weights
(an OrderedDict; --plain-dict saves dict(state_dict) instead).

--pretrained loads torchvision's ImageNet weights through its weights API
(`torchvision.models.<arch>(weights="DEFAULT")`), which NEEDS INTERNET (or the
file already in the torch hub cache, ~/.cache/torch/hub/checkpoints): run it on
a machine with internet access and copy the file over. Without --pretrained the
weights are a random init after torch.manual_seed(--seed), which is what the
parity tests use (no download is possible on the project machines).

--sample-out FILE.pt also saves a parity sample, a plain dict of tensors
{"input": x, "logits": model.eval()(x)} with x = torch.randn(2, C, H, W) from a
torch.Generator seeded with --seed (C = --channels, H = W = --size), so a C++
test can load the weights, run x and compare the logits. For vgg19_bn, whose
3-layer ImageNet classifier has no counterpart in fer's vgg19 (the seed's single
Linear(512, classes) on 1x1 features), the sample also holds that head,
"seed_head.weight" / "seed_head.bias", and "seed_logits" =
seed_head(avgpool_1x1(model.features(x))): the logits of fer's vgg19 with the
imported features and that head.

--stem3x3 (ResNet only) replaces conv1 by a 3x3 stride-1 conv (padding 1, no
bias; its kernel drawn from the same seeded global RNG) and maxpool by Identity,
as `fer` does for 44-48 px faces.

Run with Debian's interpreter (python3-torch 1.13, python3-torchvision 0.14):

    /usr/bin/python3 scripts/export_torchvision_weights.py --arch resnet18 \\
        --pretrained --out resnet18_imagenet.pth          # needs internet
    /usr/bin/python3 scripts/export_torchvision_weights.py --arch resnet18 \\
        --num-classes 7 --size 64 --out r18.pt --sample-out r18_sample.pt
"""

import argparse
import os
import sys

import torch
import torch.nn as nn
import torchvision

ARCHS = ("resnet18", "vgg19_bn", "vit_b_16")


def replace_head(model, arch, num_classes):
    """Give a pretrained (1000-class) model a fresh num_classes-way last layer."""
    if arch.startswith("resnet"):
        model.fc = nn.Linear(model.fc.in_features, num_classes)
    elif arch.startswith("vgg"):
        last = model.classifier[-1]
        model.classifier[-1] = nn.Linear(last.in_features, num_classes)
    elif arch.startswith("vit"):
        model.heads.head = nn.Linear(model.heads.head.in_features, num_classes)
    else:
        raise ValueError(arch)


def replace_input_channels(model, arch, channels):
    """Rebuild the first conv for `channels` inputs (same geometry, fresh init)."""
    if arch.startswith("resnet"):
        c = model.conv1
        model.conv1 = nn.Conv2d(channels, c.out_channels, c.kernel_size, c.stride,
                                c.padding, bias=c.bias is not None)
    elif arch.startswith("vgg"):
        c = model.features[0]
        model.features[0] = nn.Conv2d(channels, c.out_channels, c.kernel_size,
                                      c.stride, c.padding, bias=c.bias is not None)
    elif arch.startswith("vit"):
        c = model.conv_proj
        model.conv_proj = nn.Conv2d(channels, c.out_channels, c.kernel_size,
                                    c.stride, c.padding, bias=c.bias is not None)
    else:
        raise ValueError(arch)


def build(args):
    ctor = getattr(torchvision.models, args.arch)
    kwargs = {}
    if args.arch.startswith("vit"):
        kwargs["image_size"] = args.size  # ViT's position embedding fixes the size
    if args.pretrained:
        # torchvision weights API: downloads the ImageNet checkpoint (needs internet).
        model = ctor(weights="DEFAULT", **kwargs)
        if args.num_classes != 1000:
            replace_head(model, args.arch, args.num_classes)
    else:
        model = ctor(weights=None, num_classes=args.num_classes, **kwargs)

    if args.channels != 3:
        replace_input_channels(model, args.arch, args.channels)

    if args.stem3x3:
        if not args.arch.startswith("resnet"):
            sys.exit("error: --stem3x3 applies to ResNets only")
        # Kernel init comes from the same seeded global RNG as the rest of the model
        # (nn.Conv2d's default kaiming_uniform_ init), so the export is reproducible.
        model.conv1 = nn.Conv2d(args.channels, model.conv1.out_channels, kernel_size=3,
                                stride=1, padding=1, bias=False)
        model.maxpool = nn.Identity()
    return model


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", choices=ARCHS, default="resnet18",
                   help="torchvision architecture")
    p.add_argument("--out", required=True, help="output FILE.pt (the state dict)")
    p.add_argument("--plain-dict", action="store_true",
                   help="save dict(model.state_dict()) instead of the OrderedDict")
    p.add_argument("--num-classes", type=int, default=1000, help="classes (1000)")
    p.add_argument("--seed", type=int, default=0,
                   help="torch.manual_seed before building; also seeds the sample (0)")
    p.add_argument("--pretrained", action="store_true",
                   help="torchvision ImageNet weights via the weights API (NEEDS INTERNET)")
    p.add_argument("--sample-out", default=None,
                   help="also save {'input': x, 'logits': model.eval()(x)} here")
    p.add_argument("--size", type=int, default=224, help="sample height = width (224)")
    p.add_argument("--channels", type=int, default=3, help="input channels (3)")
    p.add_argument("--stem3x3", action="store_true",
                   help="ResNet: conv1 -> 3x3 stride 1, maxpool -> Identity")
    args = p.parse_args()

    for path in (args.out, args.sample_out):
        if path and os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)

    torch.manual_seed(args.seed)
    model = build(args)

    if not args.pretrained and args.arch.startswith("vit"):
        # torchvision starts the head and the class token at zero, where a port that ignored
        # them would still match: draw them from the seeded RNG instead.
        with torch.no_grad():
            model.heads.head.weight.normal_(0, 0.05)
            model.heads.head.bias.normal_(0, 0.05)
            model.class_token.normal_(0, 0.5)

    if not args.pretrained:
        # Make the BN running statistics non-default: with freshly initialised
        # running_mean = 0 / running_var = 1, eval-mode BN is nearly the identity and
        # a C++ port that mishandles the running stats (or loads them into the wrong
        # buffers) would still match. Three forward passes in train() mode on random
        # data (no_grad: only the buffers change) move them away from 0/1, which makes
        # the parity test meaningful. The data comes from its own generator so the
        # global RNG stream (and so the weights) does not depend on it.
        calib = torch.Generator().manual_seed(args.seed + 1)
        model.train()
        with torch.no_grad():
            for _ in range(3):
                xb = torch.randn(4, args.channels, args.size, args.size, generator=calib)
                model(xb * 1.5 + 0.25)

    model.eval()
    state = model.state_dict()
    torch.save(dict(state) if args.plain_dict else state, args.out)
    print(f"wrote {args.out}: {args.arch}, {len(state)} tensors, "
          f"{sum(v.numel() for v in state.values())} values, "
          f"num_classes {args.num_classes}, seed {args.seed}"
          f"{', pretrained' if args.pretrained else ''}"
          f"{', 3x3 stem' if args.stem3x3 else ''}")

    if args.sample_out:
        gen = torch.Generator().manual_seed(args.seed)
        x = torch.randn(2, args.channels, args.size, args.size, generator=gen)
        model.eval()  # eval mode: BN uses the running stats, dropout is off
        with torch.no_grad():
            logits = model(x)
        sample = {"input": x.contiguous(), "logits": logits.contiguous()}
        if args.arch.startswith("vgg"):
            head = nn.Linear(512, args.num_classes)
            with torch.no_grad():
                head.weight.normal_(0, 0.05, generator=gen)
                head.bias.normal_(0, 0.05, generator=gen)
                feats = nn.functional.adaptive_avg_pool2d(model.features(x), 1).flatten(1)
                sample["seed_head.weight"] = head.weight.detach().clone()
                sample["seed_head.bias"] = head.bias.detach().clone()
                sample["seed_logits"] = head(feats).contiguous()
        torch.save(sample, args.sample_out)
        print(f"wrote {args.sample_out}: input {tuple(x.shape)}, "
              f"logits {tuple(logits.shape)}")


if __name__ == "__main__":
    main()
