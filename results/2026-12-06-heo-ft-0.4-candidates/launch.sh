#!/bin/bash
# heo-ft 0.4 candidates (issue #20), CPU, one thread each, side by side.
set -u
cd "$(dirname "$0")/.."
. .venv/bin/activate
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
DROP=heo_calc/models/heo-ft.dropped_outliers.json
COMMON="--train runs/heo.h5 --drop-outliers-from $DROP --zero-stress-below 0.01 --stress-weight 1e-4 --batch-size 4 --seed 1 --time-limit 70"
nohup heo-calc finetune --base sevennet-0 --out runs/zs-s0 --epochs 3 --lr 5e-4 --lr-decay 0.7 --force-weight 0.1 $COMMON > runs/zs-s0.log 2>&1 &
nohup heo-calc finetune --base sevennet-0 --out runs/zs-s0-replay --epochs 3 --lr 5e-4 --lr-decay 0.7 --force-weight 0.1 --base-replay 200 --replay-labels sevennet-0 $COMMON > runs/zs-s0-replay.log 2>&1 &
nohup heo-calc finetune --base heo_calc/models/heo-ft.pth --out runs/zs-ft030 --epochs 2 --lr 2e-4 --lr-decay 0.7 --force-weight 0.3 $COMMON > runs/zs-ft030.log 2>&1 &
wait
