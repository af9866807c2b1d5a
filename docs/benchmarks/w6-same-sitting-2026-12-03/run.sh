#!/usr/bin/env bash
# W6 (MLP 3→64→64→64→2 tanh, batch 512, forward + backward) beside torchdiffeq's W6, same machine, same sitting:
# ours at AVX-512, AVX2 (DOTNET_EnableAVX512=0) and 128 bits (DOTNET_PreferredVectorBitWidth=128, as shipped and with
# DOTNET_ReadyToRun=0), on one core (taskset -c 0) and two; the peer (torch 1.13 + OpenBLAS 0.3.21) with its AVX-512
# and its AVX2 kernels at 1 and 2 threads. Three rounds, each configuration back to back.
cd "$(dirname "$0")/../../.."
B="dotnet NeuralOde.Benchmarks/bin/Release/net10.0/NeuralOde.Benchmarks.dll peer --only W6"
export TORCHDIFFEQ_SRC=${TORCHDIFFEQ_SRC:-/tmp/tdq} BENCH_NO_WAIT=1 OMP_WAIT_POLICY=PASSIVE
export LD_LIBRARY_PATH=${OPENBLAS_DIR:-/tmp/ob/root/usr/lib/x86_64-linux-gnu/openblas-pthread}
P="/usr/bin/python3 ${PEER_SCRIPT:-../shared/peer/bench_torchdiffeq.py} w6 --reps-big 1"
out=${BENCH_OUT_DIR:-/tmp/w6s3}
for r in 1 2 3; do
  for cores in 1 2; do
    pin=""; [ $cores = 1 ] && pin="taskset -c 0"
    echo "### round $r ours-avx512-c$cores"; $pin $B 2>&1 | grep -E '^\| W6'
    echo "### round $r ours-avx2-c$cores"; DOTNET_EnableAVX512=0 $pin $B 2>&1 | grep -E '^\| W6'
    echo "### round $r ours-128-c$cores"; DOTNET_PreferredVectorBitWidth=128 $pin $B 2>&1 | grep -E '^\| W6'
    echo "### round $r ours-128-r2r0-c$cores"; DOTNET_PreferredVectorBitWidth=128 DOTNET_ReadyToRun=0 $pin $B 2>&1 | grep -E '^\| W6'
    echo "### round $r peer-avx512-t$cores"; BENCH_OUT=$out/p512-$r-$cores OPENBLAS_CORETYPE=SKYLAKEX ATEN_CPU_CAPABILITY=avx512 OPENBLAS_NUM_THREADS=$cores BENCH_THREADS=$cores $pin $P 2>&1 | grep -E '^W6 (mlp|mm_512)'
    echo "### round $r peer-avx2-t$cores"; BENCH_OUT=$out/p2-$r-$cores OPENBLAS_CORETYPE=HASWELL ATEN_CPU_CAPABILITY=avx2 OPENBLAS_NUM_THREADS=$cores BENCH_THREADS=$cores $pin $P 2>&1 | grep -E '^W6 (mlp|mm_512)'
  done
done
echo DONE
