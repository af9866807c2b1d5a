#!/usr/bin/env bash
# Ours on the same machine in the same sitting: `peer --quick` on one core (taskset -c 0) and on two.
cd "$(dirname "$0")/../../.."
B="dotnet NeuralOde.Benchmarks/bin/Release/net10.0/NeuralOde.Benchmarks.dll peer --quick"
out=${OUT:-/tmp/ours-zen2}; mkdir -p "$out"; tag=${TAG:-a}  # this folder holds tag a as ours-1-core.* and ours-2-cores.*
taskset -c 0 $B --json "$out/ours-$tag-1-core.json" > "$out/ours-$tag-1-core.txt" 2>&1
$B --json "$out/ours-$tag-2-cores.json" > "$out/ours-$tag-2-cores.txt" 2>&1
echo DONE
