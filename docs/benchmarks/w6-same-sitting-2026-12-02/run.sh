#!/usr/bin/env bash
cd /work/main
B="dotnet NeuralOde.Benchmarks/bin/Release/net10.0/NeuralOde.Benchmarks.dll peer --only W6"
export TORCHDIFFEQ_SRC=/tmp/tdq BENCH_NO_WAIT=1 LD_LIBRARY_PATH=/tmp/ob/root/usr/lib/x86_64-linux-gnu/openblas-pthread OMP_WAIT_POLICY=PASSIVE
P="/usr/bin/python3 /work/shared/peer/bench_torchdiffeq.py w6 --reps-big 1"
for r in 1 2 3; do
  echo "### round $r ours-avx512"; $B 2>&1 | grep -E 'W6'
  echo "### round $r ours-avx2"; DOTNET_EnableAVX512=0 $B 2>&1 | grep -E 'W6'
  echo "### round $r ours-128-r2r0"; DOTNET_PreferredVectorBitWidth=128 DOTNET_ReadyToRun=0 $B 2>&1 | grep -E 'W6'
  for th in 1 2; do
    echo "### round $r peer-avx512-t$th"; BENCH_OUT=/tmp/w6s/p512-$r-$th OPENBLAS_CORETYPE=SKYLAKEX ATEN_CPU_CAPABILITY=avx512 OPENBLAS_NUM_THREADS=$th BENCH_THREADS=$th $P 2>&1 | grep -E '^W6 (mlp|mm_512)'
    echo "### round $r peer-avx2-t$th"; BENCH_OUT=/tmp/w6s/p2-$r-$th OPENBLAS_CORETYPE=HASWELL ATEN_CPU_CAPABILITY=avx2 OPENBLAS_NUM_THREADS=$th BENCH_THREADS=$th $P 2>&1 | grep -E '^W6 (mlp|mm_512)'
  done
done
echo DONE
