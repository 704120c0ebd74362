#!/usr/bin/env bash
# Third lent GPU session (one H100): the hold-on finetunes measured against each other at equal
# epochs, and the forgetting report over every cation of the data.
#
#   A. in the background, three SevenNet finetunes of 7 epochs side by side:
#      b-replay   heo-ft 0.3.0's own recipe (stage 5, from candidate B) plus 200 base-labelled
#                 binary-oxide cells: the ablation of replay on the shipped model
#      s0-replay7 SevenNet-0 + replay, 7 epochs like s0-naive / s0-anchor (the earlier run had 2)
#      s0-anchor4 SevenNet-0 with a ten times stronger L2 pull to the base (λ = 1e-4)
#   B. meanwhile, heo-calc forgetting of heo-ft against SevenNet-0 for all cations of the data
#   C. heo-calc evaluate (valid, test) of the three new models
#   D. heo-calc forgetting of every hold-on variant on the 12-cation set of the model card
#
# Carried (git-ignored): .whl/ (Python 3.12 wheels, see ../shared/gpu/README.md), runs/heo.h5,
# .gpu/models/B.pth, runs/models-gpu2/s0-{naive,anchor}.pth.
# Usage on the GPU machine: OUT=... bash benchmarks/gpu_session_holdon.sh
set -u
OUT=${OUT:?set OUT to the folder that comes back}
exec > >(tee -a "$OUT/log.txt") 2>&1
SITE=${SITE:-/tmp/heo-site}
echo "start $(date -u +%T)"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl || exit 1
python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --target "$SITE" . || exit 1
export PYTHONPATH=$SITE PYTHONUNBUFFERED=1 HEO_CALC_OFFLINE=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader

echo "== A. finetunes, 7 epochs each $(date -u +%T)"
COMMON=(--train runs/heo.h5 --drop-outliers-from heo_calc/models/heo-ft.dropped_outliers.json
        --batch-size 8 --lr-decay 0.95 --epochs 7 --device cuda --time-limit "${TRAIN_MIN:-4.3}")
W=runs/gpu3; mkdir -p $W "$OUT/models"
run() { name=$1; shift; OMP_NUM_THREADS=3 python3 -m heo_calc.cli finetune --out "$W/$name" "${COMMON[@]}" "$@" > "$W/$name.log" 2>&1 & }
run b-replay --base .gpu/models/B.pth --lr 2.1e-4 --force-weight 0.5 --seed 1 --base-replay 200
run s0-replay7 --base sevennet-0 --lr 5e-4 --force-weight 0.5 --seed 2 --base-replay 200
run s0-anchor4 --base sevennet-0 --lr 5e-4 --force-weight 0.5 --seed 2 --anchor-weights 1e-4

CATIONS=Mg,Ca,Mn,Co,Ni,Cu,Zn,Li,Al,La,Zr,Ce
echo "== B. forgetting, every cation of the data, heo-ft vs sevennet-0 $(date -u +%T)"
OMP_NUM_THREADS=2 timeout "${ALL_S:-240}" python3 -m heo_calc.cli forgetting --calc heo-ft --base sevennet-0 \
    --data runs/heo.h5 --out "$OUT/forgetting-all" --cache "$OUT/fcache" --device cuda -q
echo "forgetting-all exit $? $(date -u +%T)"

while [ -n "$(jobs -r)" ]; do
  sleep 15
  echo "t=$(date -u +%T) epochs: $(for r in b-replay s0-replay7 s0-anchor4; do echo -n "$r:$(grep -c '^Epoch' $W/$r/train/log.sevenn 2>/dev/null) "; done)"
done
MODELS=""
for r in b-replay s0-replay7 s0-anchor4; do
  echo "== $r"; tail -2 "$W/$r.log"
  if [ -f "$W/$r/finetuned.pth" ]; then cp "$W/$r/finetuned.pth" "$OUT/models/$r.pth"; MODELS="$MODELS,sevennet:$OUT/models/$r.pth"; fi
done
MODELS=${MODELS#,}
tar czf "$OUT/train_logs.tgz" $W/*.log $W/*/train/lc.csv $W/*/train/log.sevenn $W/*/train/input.yaml 2>/dev/null

echo "== C. evaluate $(date -u +%T)"
[ -n "$MODELS" ] && timeout 60 python3 -m heo_calc.cli evaluate --calc "$MODELS" --data runs/heo.h5 \
    --split valid,test --fit-split '' --device cuda --out "$OUT/eval_holdon.csv" > "$OUT/eval_holdon.log" 2>&1
tail -20 "$OUT/eval_holdon.log"

echo "== D. forgetting, 12 cations, every hold-on variant $(date -u +%T)"
OLD=sevennet:runs/models-gpu2/s0-naive.pth,sevennet:runs/models-gpu2/s0-anchor.pth
OMP_NUM_THREADS=8 timeout "${HOLDON_S:-170}" python3 -m heo_calc.cli forgetting --calc "heo-ft,$OLD${MODELS:+,$MODELS}" \
    --base sevennet-0 --cations $CATIONS --out "$OUT/forgetting-holdon" --cache "$OUT/fcache" --device cuda -q
echo "forgetting-holdon exit $? $(date -u +%T)"
ls -la "$OUT" "$OUT/models"; echo "done $(date -u +%T)"
