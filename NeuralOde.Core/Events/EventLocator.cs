using System.Numerics;
using MathNet.Numerics.RootFinding;

namespace NeuralOde.Core.Events;

/// <summary>Finds event crossings inside an accepted step, on the step's continuous extension.</summary>
/// <typeparam name="T">The state's element type.</typeparam>
internal sealed class EventLocator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Writes the state at a time inside the current step.</summary>
    public delegate void StepInterpolation(double time, Span<T> destination);

    private readonly IReadOnlyList<OdeEvent<T>> events;
    private readonly double[] gStart;
    private readonly T[] eventState;
    private readonly StepInterpolation interpolate;

    public EventLocator(IReadOnlyList<OdeEvent<T>> events, int dimension, StepInterpolation interpolate)
    {
        this.events = events;
        gStart = new double[events.Count];
        eventState = new T[dimension];
        this.interpolate = interpolate;
    }

    public int Count => events.Count;

    public OdeEvent<T> this[int index] => events[index];

    /// <summary>Evaluates every event function at the start of a step (after a start or a restart).</summary>
    public void Reset(double t, ReadOnlySpan<T> y)
    {
        for (int e = 0; e < events.Count; e++) gStart[e] = events[e].Function(t, y);
    }

    /// <summary>Finds the crossings in (t, tNew]; records them in time order up to the first that is terminal or jumps, whose index it returns (−1 if none).</summary>
    public int Locate(double t, double tNew, ReadOnlySpan<T> yNew, double direction, List<EventOccurrence<T>>? log, out double tCut)
    {
        tCut = tNew;
        Span<double> roots = stackalloc double[events.Count];
        int found = 0;
        for (int e = 0; e < events.Count; e++)
        {
            OdeEvent<T> ev = events[e];
            double ga = gStart[e];
            double gb = ev.Function(tNew, yNew);
            gStart[e] = gb;
            roots[e] = double.NaN;
            double lo = t, hi = tNew, glo = ga, ghi = gb;
            if (!Crosses(ev.Direction, ga, gb))
            {
                // Also look at the middle of the step, so a crossing pair inside one long step (a ball leaving the
                // ground and landing again) is seen when the midpoint lies between them.
                double mid = t + 0.5 * (tNew - t);
                interpolate(mid, eventState);
                double gm = ev.Function(mid, eventState);
                if (Crosses(ev.Direction, ga, gm)) (hi, ghi) = (mid, gm);
                else if (Crosses(ev.Direction, gm, gb)) (lo, glo) = (mid, gm);
                else continue;
            }
            double root = hi;
            if (ghi != 0)
            {
                EventFunction<T> g = ev.Function;
                T[] state = eventState;
                StepInterpolation at = interpolate;
                // Brent stops when |G| < accuracy or the bracket is below it; dividing g by its secant slope makes
                // both criteria a tolerance in t.
                double slope = Math.Abs(ghi - glo) / Math.Abs(hi - lo);
                double G(double time)
                {
                    at(time, state);
                    return g(time, state) / slope;
                }
                if (!Brent.TryFindRoot(G, Math.Min(lo, hi), Math.Max(lo, hi), ev.TimeTolerance, 200, out root)) root = hi;
            }
            roots[e] = root;
            found++;
        }
        if (found == 0) return -1;

        int cut = -1;
        while (found > 0)
        {
            int first = -1;
            for (int e = 0; e < events.Count; e++)
            {
                if (!double.IsNaN(roots[e]) && (first < 0 || direction * (roots[e] - roots[first]) < 0)) first = e;
            }
            double time = roots[first];
            roots[first] = double.NaN;
            found--;
            if (cut >= 0 && time != tCut) break;
            var state = new T[eventState.Length];
            interpolate(time, state);
            log?.Add(new EventOccurrence<T>(first, time, state));
            if (cut < 0 && (events[first].IsTerminal || events[first].Jump is not null))
            {
                cut = first;
                tCut = time;
            }
        }
        return cut;
    }

    private static bool Crosses(EventDirection direction, double ga, double gb)
    {
        bool rising = ga < 0 && gb >= 0;
        bool falling = ga > 0 && gb <= 0;
        return direction switch
        {
            EventDirection.Rising => rising,
            EventDirection.Falling => falling,
            _ => rising || falling,
        };
    }
}
