#!/usr/bin/python3
"""PyTorch-from-Python reference for `fer bench`.

Runs the same CPU workload as `fer bench` and prints images/s for four stages:

  1. data pipeline alone:  iterate the DataLoader (PIL decode of a 48x48 gray face,
     gray -> 3 channels, RandomCrop(44), RandomHorizontalFlip, ToTensor, collate);
  2. model alone:          forward + backward + SGD step on ONE ready random batch;
  3. training loop:        the DataLoader feeding the model (what an epoch costs);
  4. inference alone:      model.eval() forward under no_grad on ONE ready batch;
  5. evaluation, ten-crop: DataLoader with TenCrop(44) on the 48 px images feeding
     model.eval() under no_grad, logits averaged over the 10 crops; reported in
     images (not crops) per second.

--precision bf16 runs the forward passes under torch.autocast("cpu", bfloat16), the
loss in fp32, as `fer bench --precision bf16` does. --json FILE writes the figures.

Workload: torchvision ResNet-18 (num_classes=7) with a 3x3 stride-1 stem
(conv1 = Conv2d(3, 64, 3, 1, 1, bias=False), maxpool = Identity) for 44x44
inputs, batch 64, SGD(lr=0.01, momentum=0.9, weight_decay=5e-4), cross-entropy,
torch.set_num_threads(--threads). Data: the CK+ HDF5 file (`data_pixel` uint8
[N,48,48], `data_label` int64); if that file is absent (or --data random),
981 random uint8 48x48 images with random labels.

Each stage runs --warmup untimed batches, then --iters timed batches; the loader
cycles over epochs when it runs out (drop_last=True, shuffle=True).

Run with Debian's interpreter (it has python3-torch 1.13, torchvision, h5py):

    /usr/bin/python3 scripts/bench/bench_pytorch.py                 # defaults
    /usr/bin/python3 scripts/bench/bench_pytorch.py --threads 2 --iters 20 --warmup 3
    /usr/bin/python3 scripts/bench/bench_pytorch.py --iters 2 --warmup 1   # smoke test
    /usr/bin/python3 scripts/bench/bench_pytorch.py --data random --workers 1
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO_ROOT / ".." / "shared" / "data" / "ck_plus" / "CK_data.h5"
NUM_CLASSES = 7
CROP = 44


class FaceDataset(Dataset):
    """48x48 gray uint8 faces -> PIL RGB image -> transform (as in the seed code)."""

    def __init__(self, pixels, labels, transform):
        self.pixels = pixels
        self.labels = labels
        self.transform = transform

    def __len__(self):
        return len(self.pixels)

    def __getitem__(self, i):
        gray = self.pixels[i]
        rgb = np.stack([gray, gray, gray], axis=2)  # gray -> 3 channels
        img = Image.fromarray(rgb)
        return self.transform(img), int(self.labels[i])


def stack_crops(crops):
    """TenCrop output (tuple of 10 PIL images) -> tensor [10, 3, 44, 44]."""
    return torch.stack([transforms.functional.to_tensor(c) for c in crops])


def load_data(path, seed):
    if path is not None and str(path) != "random" and Path(path).is_file():
        import h5py

        with h5py.File(path, "r") as f:
            pixels = np.asarray(f["data_pixel"], dtype=np.uint8)
            labels = np.asarray(f["data_label"], dtype=np.int64)
        return pixels, labels, str(Path(path).resolve())
    if path is not None and str(path) != "random":
        print(f"note: {path} not found, using random images", file=sys.stderr)
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(981, 48, 48), dtype=np.uint8)
    labels = rng.integers(0, NUM_CLASSES, size=(981,), dtype=np.int64)
    return pixels, labels, "random"


def build_model():
    model = torchvision.models.resnet18(weights=None, num_classes=NUM_CLASSES)
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    model.maxpool = nn.Identity()
    return model


def make_loader(dataset, batch, workers, shuffle):
    return DataLoader(
        dataset,
        batch_size=batch,
        shuffle=shuffle,
        num_workers=workers,
        drop_last=True,
        persistent_workers=workers > 0,
    )


def cycle(loader):
    """Endless iterator over a DataLoader (a new epoch when one ends)."""
    while True:
        for item in loader:
            yield item


def timed(n_warmup, n_iters, step):
    """Run step() n_warmup times untimed, then n_iters times timed; return seconds."""
    for _ in range(n_warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(n_iters):
        step()
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iters", type=int, default=20, help="timed batches per stage (20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed batches per stage (3)")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="torch.set_num_threads (default: os.cpu_count())")
    p.add_argument("--workers", type=int, default=0, help="DataLoader num_workers (0)")
    p.add_argument("--batch", type=int, default=64, help="batch size (64)")
    p.add_argument("--data", default=str(DEFAULT_DATA),
                   help="CK+ HDF5 file, or 'random' (default: ../shared/data/ck_plus/"
                        "CK_data.h5 relative to the repo root; random if absent)")
    p.add_argument("--seed", type=int, default=0, help="RNG seed (0)")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                   help="fp32, or bf16 autocast of the forward passes (fp32)")
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args()
    bf16 = args.precision == "bf16"

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    pixels, labels, data_name = load_data(args.data, args.seed)
    if len(pixels) < args.batch:
        sys.exit(f"error: {len(pixels)} images, fewer than one batch of {args.batch}")

    train_tf = transforms.Compose([
        transforms.RandomCrop(CROP),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
    ])
    eval_tf = transforms.Compose([transforms.TenCrop(CROP), stack_crops])
    train_loader = make_loader(FaceDataset(pixels, labels, train_tf),
                               args.batch, args.workers, shuffle=True)
    eval_loader = make_loader(FaceDataset(pixels, labels, eval_tf),
                              args.batch, args.workers, shuffle=False)

    model = build_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9,
                                weight_decay=5e-4)
    criterion = nn.CrossEntropyLoss()

    def train_step(x, y):
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        loss = criterion(logits.float(), y)
        loss.backward()
        optimizer.step()
        return loss

    print(f"PyTorch {torch.__version__} (Python), ResNet-18, {CROP}x{CROP} crops, "
          f"batch {args.batch}, {torch.get_num_threads()} threads, precision {args.precision}, "
          f"data: {data_name}",
          flush=True)
    n_img = args.iters * args.batch

    # (1) data pipeline alone
    it = cycle(train_loader)
    t = timed(args.warmup, args.iters, lambda: next(it))
    data_ips = n_img / t
    print(f"  {'data pipeline alone (decode+augment+collate)':<46}{data_ips:>9.1f} img/s",
          flush=True)

    # (2) model alone on one ready random batch
    model.train()
    x = torch.rand(args.batch, 3, CROP, CROP)
    y = torch.randint(0, NUM_CLASSES, (args.batch,))
    t = timed(args.warmup, args.iters, lambda: train_step(x, y))
    model_ips = n_img / t
    print(f"  {'model alone (forward+backward+step)':<46}{model_ips:>9.1f} img/s",
          flush=True)

    # (3) real training loop: loader feeding the model
    model.train()
    it = cycle(train_loader)

    def loop_step():
        xb, yb = next(it)
        train_step(xb, yb)

    t = timed(args.warmup, args.iters, loop_step)
    loop_ips = n_img / t
    rel = (loop_ips / model_ips - 1.0) * 100.0
    print(f"  {'training loop (loader + model)':<46}{loop_ips:>9.1f} img/s  "
          f"({rel:+.1f}% vs model alone)", flush=True)

    # (4) inference alone on one ready batch
    model.eval()

    def infer_step():
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return model(x).float().sum().item()

    t = timed(args.warmup, args.iters, infer_step)
    infer_ips = n_img / t
    print(f"  {'inference alone (forward, eval mode)':<46}{infer_ips:>9.1f} img/s", flush=True)

    # (5) evaluation with ten-crop (images/s, not crops/s)
    model.eval()
    it = cycle(eval_loader)

    def eval_step():
        xb, yb = next(it)  # xb: [B, 10, 3, 44, 44]
        b, ncrops = xb.shape[:2]
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(xb.view(-1, *xb.shape[2:])).float().view(b, ncrops, -1).mean(1)
            F.softmax(logits, dim=1).argmax(1)
        return logits

    t = timed(args.warmup, args.iters, eval_step)
    eval_ips = n_img / t
    print(f"  {'evaluation with ten-crop':<46}{eval_ips:>9.1f} img/s", flush=True)
    if args.json:
        import json
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(),
                       "precision": args.precision, "batch": args.batch, "data": data_name,
                       "pipeline": data_ips, "model": model_ips, "train_loop": loop_ips,
                       "inference": infer_ips, "eval_ten_crop": eval_ips}, f, indent=2)


if __name__ == "__main__":
    main()
