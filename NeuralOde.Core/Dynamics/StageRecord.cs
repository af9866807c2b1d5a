namespace NeuralOde.Core.Dynamics;

/// <summary>Where one evaluation k = f(t, Y) (or one row block of it) lives on a tape: its input leaf, its first node and its output.</summary>
internal readonly record struct StageRecord(int Leaf, int First, int Output);
