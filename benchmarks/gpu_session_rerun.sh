#!/usr/bin/env bash
# Second call of the same GPU session (warm machine): the plain FIRE baseline of bench_relax.py that the first
# call cut at its 90 s variant limit, and the base-replay finetune that failed there (fixed since: uniform
# info keys in the training files). Same inputs as gpu_session.sh.
set -u
exec > >(tee -a "$OUT/log.txt") 2>&1
SITE=/tmp/heo-site
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl || exit 1
python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --upgrade --target "$SITE" . || exit 1
export PYTHONPATH=$SITE PYTHONUNBUFFERED=1 HEO_CALC_OFFLINE=1
echo "plain $(date -u +%T)"
timeout 140 python3 benchmarks/bench_relax.py --calc heo-ft --n 32 --variants plain --out "$OUT/bench_relax.jsonl" --variant-timeout 135
echo "replay $(date -u +%T)"
W=runs/gpu; mkdir -p $W
OMP_NUM_THREADS=8 timeout 170 python3 -m heo_calc.cli finetune --out $W/s0-replay --train runs/heo.h5 --drop-outliers-from heo_calc/models/heo-ft.dropped_outliers.json --batch-size 8 --lr-decay 0.95 --epochs 60 --device cuda --time-limit 2.6 --base sevennet-0 --lr 5e-4 --force-weight 0.5 --seed 2 --base-replay 200 > $W/s0-replay.log 2>&1
tail -3 $W/s0-replay.log
tar czf "$OUT/replay.tgz" $W/s0-replay/finetuned.pth $W/s0-replay.log $W/s0-replay/train/lc.csv $W/s0-replay/train/log.sevenn $W/s0-replay/train/input.yaml 2>/dev/null
echo "done $(date -u +%T)"; ls -la $OUT
