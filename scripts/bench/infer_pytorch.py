#!/usr/bin/python3
"""The Python peer of `fer infer` for scripts/bench/compare.sh: OpenCV Haar + ResNet-18 in PyTorch.

For every image file given (or every frame of a video): decode (cv2.imread / VideoCapture),
gray + equalizeHist, Haar detectMultiScale with fer's settings (scale 1.1, 4 neighbours,
--min-face; on the full frame, or with --detect-max-side N on a copy scaled down to a longer side
of N px, as fer's face.detect_max_side does), then each face box cropped, resized to --size (48), centre-cropped to --crop (44),
gray replicated to 3 channels, and all faces of the frame classified in one batch by a
torchvision ResNet-18 with the 3x3 stride-1 stem and no max-pool (fer's CK+ model; random
weights: speed does not depend on them), softmax. No landmarks and no alignment (fer does both).

Prints frames/s and faces/s of the loop (model load and imports not counted) and, with
--json FILE, writes them. Run with Debian's interpreter (python3-torch, python3-opencv):

    /usr/bin/python3 scripts/bench/infer_pytorch.py photo1.jpg photo2.jpg --threads 2
    /usr/bin/python3 scripts/bench/infer_pytorch.py --video clip.avi
"""

import argparse
import json
import os
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
import torchvision

CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"


def build_model(classes):
    model = torchvision.models.resnet18(weights=None, num_classes=classes)
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    model.maxpool = nn.Identity()
    return model.eval()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("images", nargs="*", help="image files")
    p.add_argument("--video", help="a video file instead of images")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--size", type=int, default=48)
    p.add_argument("--crop", type=int, default=44)
    p.add_argument("--min-face", type=int, default=0, help="Haar minSize (fer's face.min_face)")
    p.add_argument("--detect-max-side", type=int, default=0,
                   help="detect on a copy scaled down to this longer side (0 = full frame)")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--json", help="write the figures to this file")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    cascade = cv2.CascadeClassifier(CASCADE)
    model = build_model(7)
    off = (args.size - args.crop) // 2

    def frames():
        if args.video:
            cap = cv2.VideoCapture(args.video)
            while True:
                ok, frame = cap.read()
                if not ok:
                    return
                yield frame
        else:
            for path in args.images:
                yield cv2.imread(path, cv2.IMREAD_COLOR)

    def classify(frame):
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        scale = 1.0
        small = gray
        if 0 < args.detect_max_side < max(gray.shape):
            scale = args.detect_max_side / max(gray.shape)
            small = cv2.resize(gray, (round(gray.shape[1] * scale), round(gray.shape[0] * scale)),
                               interpolation=cv2.INTER_AREA)
        side = max(int(args.min_face * scale), 1)
        boxes = cascade.detectMultiScale(cv2.equalizeHist(small), 1.1, 4, minSize=(side, side))
        if len(boxes) == 0:
            return 0
        boxes = [[int(round(v / scale)) for v in b] for b in boxes]
        crops = []
        for x, y, w, h in boxes:
            face = cv2.resize(gray[y:y + h, x:x + w], (args.size, args.size), interpolation=cv2.INTER_AREA)
            crops.append(face[off:off + args.crop, off:off + args.crop])
        batch = torch.from_numpy(np.stack(crops)).float().div_(255).unsqueeze(1).expand(-1, 3, -1, -1)
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            torch.softmax(model(batch.contiguous()).float(), 1).argmax(1).tolist()
        return len(boxes)

    with torch.no_grad():  # warm-up: the first forward allocates
        model(torch.zeros(1, 3, args.crop, args.crop))
    t0 = time.perf_counter()
    n_frames = n_faces = 0
    for frame in frames():
        n_faces += classify(frame)
        n_frames += 1
    seconds = time.perf_counter() - t0
    result = {"torch": torch.__version__, "opencv": cv2.__version__, "threads": args.threads,
              "precision": args.precision,
              "detect_max_side": args.detect_max_side, "frames": n_frames, "faces": n_faces, "seconds": seconds,
              "frames_per_s": n_frames / seconds, "faces_per_s": n_faces / seconds}
    where = "the full frame" if args.detect_max_side == 0 else f"a copy of at most {args.detect_max_side} px"
    print(f"Python (PyTorch {torch.__version__}, OpenCV {cv2.__version__}, {args.threads} threads, "
          f"{args.precision}, detection on {where}): {n_frames} frames, {n_faces} faces in {seconds:.2f} s: "
          f"{result['frames_per_s']:.2f} frames/s, {result['faces_per_s']:.1f} faces/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
