#!/usr/bin/env bash
# Ours and the peer interleaved on an AMD EPYC Zen 3 (family 25 model 1: AVX2 + FMA, no AVX-512), 2 vCPUs whose speed
# drifts by tens of percent over minutes: each round runs the peer at 1 thread, ours on one core and on two, and the
# peer at 2 threads, so every ratio compares runs minutes apart. The peer: torch 1.13 (Debian python3-torch),
# torchdiffeq from its repository (TORCHDIFFEQ_SRC), OpenBLAS pthread from libopenblas0-pthread unpacked in OPENBLAS_DIR.
cd "$(dirname "$0")/../../.."
export TORCHDIFFEQ_SRC=${TORCHDIFFEQ_SRC:-/tmp/tdq} BENCH_NO_WAIT=1 OMP_WAIT_POLICY=PASSIVE
OB=${OPENBLAS_DIR:-/tmp/ob/root/usr/lib/x86_64-linux-gnu/openblas-pthread}
P="/usr/bin/python3 ${PEER_SCRIPT:-/work/shared/peer/bench_torchdiffeq.py}"
B="dotnet NeuralOde.Benchmarks/bin/Release/net10.0/NeuralOde.Benchmarks.dll peer --quick"
out=${OUT:-/tmp/zen3}; mkdir -p "$out"
peer() { # $1 = threads
  local t=$1 pin=""; [ "$t" = 1 ] && pin="taskset -c 0"
  ( export LD_LIBRARY_PATH=$OB OPENBLAS_NUM_THREADS=$t BENCH_THREADS=$t
    echo "### peer w6 t$t"; BENCH_OUT=$out/w6-$t $pin $P w6 --reps-big 1 2>&1 | grep -E '^W6 (mlp|mm_512)'
    echo "### peer w4 t$t"; BENCH_OUT=$out/w4-$t $pin $P w4 --Ns 1000 --procs 3 2>&1 | grep -E "^W4 N="
    echo "### peer w2 t$t"; BENCH_OUT=$out/w2-$t $pin $P w2 --iters 3 --reps-fixed 3 --eval-n 0 2>&1 | grep -E "fixed-work rep|mode"
    echo "### peer w3 t$t"; BENCH_OUT=$out/w3-$t $pin $P w3 --iters 40 --reps-fixed 3 --eval-n 200 --eval-at-init 0 2>&1 | grep -E "fixed-work rep|^W3" )
}
for r in ${ROUNDS:-1 2}; do
  echo "## round $r $(date -u +%H:%M)"
  peer 1
  echo "### ours 1 core"; taskset -c 0 $B --json "$out/ours-$r-1-core.json" > "$out/ours-$r-1-core.txt" 2>&1; grep -E '^\| W' "$out/ours-$r-1-core.txt" | grep -v 'seed=' 
  echo "### ours 2 cores"; $B --json "$out/ours-$r-2-cores.json" > "$out/ours-$r-2-cores.txt" 2>&1; grep -E '^\| W' "$out/ours-$r-2-cores.txt" | grep -v 'seed='
  peer 2
done
echo "DONE $(date -u +%H:%M)"
