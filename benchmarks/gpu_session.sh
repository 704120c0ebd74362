#!/usr/bin/env bash
# One lent GPU session (one H100, 10 minutes a command): the relaxation engine's throughput on
# the GPU, then SevenNet finetuning runs side by side, all results and logs to $OUT as they come.
#
# Run from the repository root on the GPU machine, with (all git-ignored, carried along):
#   .whl/        Python 3.12 wheels of sevenn 0.10.4, ase 3.29.0, matscipy 1.3.1, braceexpand 0.1.7,
#                e3nn 0.4.4 (the GPU image has torch, torch-geometric, numpy, scipy, pandas, h5py)
#   runs/heo.h5  heo-dataset build --source heo_lemat_dev.extxyz --out runs/heo.h5 (the development data)
#   .gpu/models/ the GPU candidates B.pth and D.pth (the earlier GPU session's checkpoints)
# Usage: OUT=... TRAIN_MIN=4.5 bash benchmarks/gpu_session.sh
set -u
OUT=${OUT:?set OUT to the folder that comes back}
TRAIN_MIN=${TRAIN_MIN:-4.5}
exec > >(tee -a "$OUT/log.txt") 2>&1
SITE=${SITE:-/tmp/heo-site}
echo "start $(date -u +%T)"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl || exit 1
python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --target "$SITE" . || exit 1
export PYTHONPATH=$SITE PYTHONUNBUFFERED=1 HEO_CALC_OFFLINE=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch, sevenn, ase; print('torch', torch.__version__, 'sevenn', sevenn.__version__, 'ase', ase.__version__, 'cuda', torch.cuda.is_available())"

echo "== 1. relaxation throughput, GPU to itself $(date -u +%T)"
timeout 200 python3 benchmarks/bench_relax.py --calc heo-ft --n 32 --variants plain,sequential,lockstep \
    --out "$OUT/bench_relax.jsonl" --variant-timeout 90
timeout 60 python3 benchmarks/bench_relax.py --calc heo-ft --n 32 --variants lockstep --max-batch-atoms 2048 \
    --out "$OUT/bench_relax.jsonl" --variant-timeout 55

echo "== 2. finetuning side by side for $TRAIN_MIN min $(date -u +%T)"
COMMON=(--train runs/heo.h5 --drop-outliers-from heo_calc/models/heo-ft.dropped_outliers.json
        --batch-size 8 --lr-decay 0.95 --epochs 60 --device cuda --time-limit "$TRAIN_MIN")
W=runs/gpu; mkdir -p $W
run() { name=$1; shift; OMP_NUM_THREADS=3 python3 -m heo_calc.cli finetune --out "$W/$name" "${COMMON[@]}" "$@" > "$W/$name.log" 2>&1 & }
run d-more --base .gpu/models/D.pth --lr 2.3e-4 --force-weight 0.5 --seed 1
run b-more --base .gpu/models/B.pth --lr 2.1e-4 --force-weight 0.5 --seed 1
run s0-naive --base sevennet-0 --lr 5e-4 --force-weight 0.5 --seed 2
run s0-anchor --base sevennet-0 --lr 5e-4 --force-weight 0.5 --seed 2 --anchor-weights 1e-5
run s0-replay --base sevennet-0 --lr 5e-4 --force-weight 0.5 --seed 2 --base-replay 200
while [ -n "$(jobs -r)" ]; do
  sleep 20
  echo "t=$(date -u +%T) epochs: $(for r in d-more b-more s0-naive s0-anchor s0-replay; do echo -n "$r:$(grep -c '^Epoch' $W/$r/train/log.sevenn 2>/dev/null) "; done)"
done
for r in d-more b-more s0-naive s0-anchor s0-replay; do echo "== $r"; tail -3 "$W/$r.log"; done
tar czf "$OUT/models_s0.tgz" $W/b-more/finetuned.pth $W/s0-*/finetuned.pth 2>/dev/null
tar czf "$OUT/models_l3i5.tgz" $W/d-more/finetuned.pth 2>/dev/null
tar czf "$OUT/train_logs.tgz" $W/*.log $W/*/train/lc.csv $W/*/train/log.sevenn $W/*/train/input.yaml \
    $W/*/data/dropped_outliers.json 2>/dev/null
ls -la "$OUT"; echo "done $(date -u +%T)"
