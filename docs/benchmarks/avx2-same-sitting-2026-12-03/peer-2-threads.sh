#!/usr/bin/env bash
export TORCHDIFFEQ_SRC=/tmp/tdq BENCH_NO_WAIT=1 LD_LIBRARY_PATH=/tmp/ob/root/usr/lib/x86_64-linux-gnu/openblas-pthread OMP_WAIT_POLICY=PASSIVE
export OPENBLAS_CORETYPE=HASWELL ATEN_CPU_CAPABILITY=avx2 OPENBLAS_NUM_THREADS=2 BENCH_THREADS=2
P="/usr/bin/python3 /work/shared/peer/bench_torchdiffeq.py"
echo "### peer w4 t2"; BENCH_OUT=/tmp/peer/t2w4 $P w4 --Ns 1000 --procs 3 2>&1 | grep -E "^W4 N="
echo "### peer w2 t2"; BENCH_OUT=/tmp/peer/t2w2 $P w2 --iters 3 --reps-fixed 3 --eval-n 0 2>&1 | grep -E "fixed-work rep|mode"
echo "### peer w3 t2"; BENCH_OUT=/tmp/peer/t2w3 $P w3 --iters 40 --reps-fixed 3 --eval-n 200 --eval-at-init 0 2>&1 | grep -E "fixed-work rep|^W3"
echo "### peer w6 t2"; BENCH_OUT=/tmp/peer/t2w6 $P w6 --reps-big 1 2>&1 | grep -E '^W6 (mlp|mm_512)'
export OPENBLAS_NUM_THREADS=1 BENCH_THREADS=1
echo "### peer w6 t1"; BENCH_OUT=/tmp/peer/t1w6 taskset -c 0 $P w6 --reps-big 1 2>&1 | grep -E '^W6 (mlp|mm_512)'
echo DONE
