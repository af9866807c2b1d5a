using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NeuralOde.Benchmarks.PeerWorkloads;

/// <summary>
/// <c>peer [--quick] [--json PATH] [--only W4,W6] [--w4-cases mode:N,…]</c>: runs the peer workloads (--only takes
/// names as in the workloads' titles, e.g. W2, W3, training) and prints one markdown table (and, with --json, the same
/// rows in a JSON object: <c>{"machine": {cpu, vector widths, thread counts}, "results": [rows]}</c>). --w4-cases runs
/// only those W4 memory cases.
/// </summary>
internal static class PeerRunner
{
    private static readonly IPeerWorkload[] Workloads = [new W1Spiral(), new W23Cnf(), new W23Training(), new W4Memory(), new W5Lorenz(), new W6MlpThroughput()];

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        string? json = ValueOf(args, "--json");
        var only = ValueOf(args, "--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var rows = new List<PeerResult>();
        var machine = MachineInfo.Current();
        Console.Error.WriteLine($"machine: {machine}");
        if (ValueOf(args, "--w4-cases") is { } w4Cases)
        {
            Console.Error.WriteLine($"running W4 cases {w4Cases}{(quick ? " (quick)" : "")} …");
            rows.AddRange(new W4Memory().Run(W4Memory.ParseCases(w4Cases), quick));
        }
        else
        {
            foreach (var workload in Workloads.Where(w => only is null || only.Any(o => w.Name.Split(['/', ' ']).Contains(o, StringComparer.OrdinalIgnoreCase))))
            {
                Console.Error.WriteLine($"running {workload.Name}{(quick ? " (quick)" : "")} …");
                rows.AddRange(workload.Run(quick));
            }
        }
        Console.WriteLine(Table(rows));
        if (json is not null)
        {
            var options = new JsonSerializerOptions { WriteIndented = true, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
            File.WriteAllText(json, JsonSerializer.Serialize(new { machine, results = rows }, options));
            Console.Error.WriteLine($"wrote {json}");
        }
        return 0;
    }

    private static string? ValueOf(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static string Table(IEnumerable<PeerResult> rows)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("| workload | mode | unit | seconds, median [min–max] | GFLOP/s | NFE-F / NFE-B | peak memory growth | loss | peer s | speed-up |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            string seconds = r.Seconds is { } s ? string.Format(c, "{0:G4} [{1:G4}–{2:G4}]", s.Median, s.Min, s.Max) : "";
            string gflops = r.GigaflopsPerSecond is { } g ? g.ToString("F1", c) : "";
            string nfe = r.NfeF is { } f ? $"{f} / {r.NfeB ?? 0}" : "";
            string memory = r.PeakMemoryBytes is { } m ? (m / 1048576.0).ToString("F2", c) + " MiB" : "";
            string loss = r.FixedWork is { } w ? w.Loss.ToString("G7", c) : r.Metric is { } metric ? $"{metric.Name} {metric.Value.ToString("G4", c)}" : "";
            string peer = r.PeerSeconds is { } p ? p.ToString("G4", c) : "";
            string speedup = r.PeerSeconds is { } q && r.Seconds is { } t ? (q / t.Median).ToString("F1", c) + "×" : "";
            sb.AppendLine($"| {r.Workload} | {r.Mode} | {r.Unit} | {seconds} | {gflops} | {nfe} | {memory} | {loss} | {peer} | {speedup} |");
        }
        return sb.ToString();
    }
}
