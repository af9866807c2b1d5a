#!/usr/bin/env bash
# The peer on an AMD EPYC Zen 2 (family 23 model 49: AVX2 + FMA, no AVX-512), its own kernel choice (OpenBLAS 0.3.21
# detects Zen, ATen picks avx2): torch 1.13 (Debian python3-torch), torchdiffeq from its repository (TORCHDIFFEQ_SRC),
# OpenBLAS pthread from libopenblas0-pthread unpacked in OPENBLAS_DIR. One thread pinned to core 0, and two threads.
export TORCHDIFFEQ_SRC=${TORCHDIFFEQ_SRC:-/tmp/tdq} BENCH_NO_WAIT=1 OMP_WAIT_POLICY=PASSIVE
export LD_LIBRARY_PATH=${OPENBLAS_DIR:-/tmp/ob/root/usr/lib/x86_64-linux-gnu/openblas-pthread}
P="/usr/bin/python3 ${PEER_SCRIPT:-/work/shared/peer/bench_torchdiffeq.py}"
out=${BENCH_OUT_DIR:-/tmp/peer-zen2}
for t in 1 2; do
  pin=""; [ $t = 1 ] && pin="taskset -c 0"
  export OPENBLAS_NUM_THREADS=$t BENCH_THREADS=$t
  echo "### peer w6 t$t"; BENCH_OUT=$out/w6-$t $pin $P w6 --reps-big 1 2>&1 | grep -E '^W6 (mlp|mm_512)'
  echo "### peer w4 t$t"; BENCH_OUT=$out/w4-$t $pin $P w4 --Ns 1000 --procs 3 2>&1 | grep -E "^W4 N="
  echo "### peer w2 t$t"; BENCH_OUT=$out/w2-$t $pin $P w2 --iters 3 --reps-fixed 3 --eval-n 0 2>&1 | grep -E "fixed-work rep|mode"
  echo "### peer w3 t$t"; BENCH_OUT=$out/w3-$t $pin $P w3 --iters 40 --reps-fixed 3 --eval-n 200 --eval-at-init 0 2>&1 | grep -E "fixed-work rep|^W3"
  echo "### peer w6 again t$t"; BENCH_OUT=$out/w6b-$t $pin $P w6 --reps-big 1 2>&1 | grep -E '^W6 (mlp|mm_512)'
done
echo DONE
