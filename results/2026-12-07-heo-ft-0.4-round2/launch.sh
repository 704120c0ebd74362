#!/bin/bash
# heo-ft 0.4, second round (issue #28): the two trainings, one after the other, each with both cores.
# Run folders outside the work tree (runs/ -> a folder beside it), so that `--resume` continues them.
set -eu
cd "$(dirname "$0")/../.."
. .venv/bin/activate
heo-dataset build --source ../shared/data/heo_lemat_dev.extxyz --out runs/heo.h5
COMMON="--train runs/heo.h5 --drop-outliers-from heo_calc/models/heo-ft.dropped_outliers.json --zero-stress-below 0.01 \
  --loss huber --huber-delta 0.01 --lr 1e-4 --lr-warmup-steps 200 --lr-decay 0.9 --force-weight 1.0 \
  --stress-weight 0.01 --stiffness-labels 200 --stiffness-labels-from sevennet-0 --batch-size 4 --seed 1 --epochs 10"
# hs0: stopped by hand after its second epoch (docs/finetuning.md, amendment); its checkpoint_best.pth exported
OMP_NUM_THREADS=2 heo-calc finetune --base sevennet-0 --out runs/hs0 $COMMON --time-limit 75
# hft030
OMP_NUM_THREADS=2 heo-calc finetune --base heo_calc/models/heo-ft.pth --out runs/hft030 $COMMON --energy-mae-cap 14.08 --time-limit 50
for a in 0.25 0.5 0.75; do
  heo-calc interpolate sevennet-0 runs/hs0/finetuned.pth --alpha $a --out runs/hs0-a$a.pth
  heo-calc interpolate sevennet-0 runs/hft030/finetuned.pth --alpha $a --out runs/hft030-a$a.pth
done
