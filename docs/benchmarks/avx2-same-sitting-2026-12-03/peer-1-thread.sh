#!/usr/bin/env bash
# Same sitting, AVX2 (ours: DOTNET_EnableAVX512=0; peer: OpenBLAS Haswell + ATen avx2), one core (taskset -c 0), 1 thread.
export TORCHDIFFEQ_SRC=/tmp/tdq BENCH_NO_WAIT=1 LD_LIBRARY_PATH=/tmp/ob/root/usr/lib/x86_64-linux-gnu/openblas-pthread OMP_WAIT_POLICY=PASSIVE
export OPENBLAS_CORETYPE=HASWELL ATEN_CPU_CAPABILITY=avx2 OPENBLAS_NUM_THREADS=1 BENCH_THREADS=1
P="taskset -c 0 /usr/bin/python3 /work/shared/peer/bench_torchdiffeq.py"
OURS="dotnet /work/main/NeuralOde.Benchmarks/bin/Release/net10.0/NeuralOde.Benchmarks.dll"
echo "### peer w4"; BENCH_OUT=/tmp/peer/w4 $P w4 --Ns 1000 --procs 3 2>&1 | grep -E "W4 N="
echo "### ours w4"; for m in backprop adjoint; do for p in 1 2 3; do DOTNET_TieredCompilation=0 DOTNET_EnableAVX512=0 taskset -c 0 $OURS peer-w4-child $m 1000; done; done
echo "### peer w2"; BENCH_OUT=/tmp/peer/w2 $P w2 --iters 3 --reps-fixed 3 --eval-n 0 2>&1 | grep -E "fixed-work rep|mode"
echo "### peer w3"; BENCH_OUT=/tmp/peer/w3 $P w3 --iters 40 --reps-fixed 3 --eval-n 0 --eval-at-init 0 2>&1 | grep -E "fixed-work rep|mode|t_iter|iter"| tail -8
echo DONE
