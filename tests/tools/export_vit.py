#!/usr/bin/python3
"""Export a small torchvision VisionTransformer and a parity sample for fer's `vit` model.

Builds torchvision.models.vision_transformer.VisionTransformer(image_size=48, patch_size=8,
num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=5) after
torch.manual_seed(--seed), then adds N(0, 0.1) noise to every parameter: torchvision starts
the head and the class token at zero and LayerNorm at 1/0, where a port that mixed them up
would still match. Writes

  OUT_DIR/w.pt       the state dict as a PLAIN dict (LibTorch cannot unpickle an OrderedDict)
  OUT_DIR/sample.pt  {"input": x [2, C, 48, 48], "logits": eval-mode logits [2, 5]}

Run with Debian's interpreter (python3-torch, python3-torchvision):

    /usr/bin/python3 tests/tools/export_vit.py --out-dir /tmp/vit --seed 3
"""

import argparse
import os

import torch
import torch.nn as nn
from torchvision.models.vision_transformer import VisionTransformer

SIZE, PATCH, LAYERS, HEADS, DIM, MLP, CLASSES = 48, 8, 2, 2, 32, 64, 5


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out-dir", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--channels", type=int, default=3, help="input channels (1 or 3)")
    args = p.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    torch.manual_seed(args.seed)
    model = VisionTransformer(image_size=SIZE, patch_size=PATCH, num_layers=LAYERS, num_heads=HEADS,
                              hidden_dim=DIM, mlp_dim=MLP, num_classes=CLASSES)
    if args.channels != 3:
        model.conv_proj = nn.Conv2d(args.channels, DIM, kernel_size=PATCH, stride=PATCH)
    gen = torch.Generator().manual_seed(args.seed + 1)
    with torch.no_grad():
        for prm in model.parameters():
            prm.add_(torch.randn(prm.shape, generator=gen) * 0.1)
    model.eval()

    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    torch.save(dict(state), os.path.join(args.out_dir, "w.pt"))
    x = torch.randn(2, args.channels, SIZE, SIZE, generator=gen)
    with torch.no_grad():
        logits = model(x)
    torch.save({"input": x.contiguous(), "logits": logits.contiguous()}, os.path.join(args.out_dir, "sample.pt"))
    print(f"wrote {args.out_dir}: {len(state)} tensors, logits {tuple(logits.shape)}")


if __name__ == "__main__":
    main()
