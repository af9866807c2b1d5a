using NeuralOde.Core;
using NeuralOde.Core.Events;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Events;

/// <summary>Events located on the dense output: falling ball, bouncing ball, direction filtering, several events at once.</summary>
public class EventTests
{
    private const double Gravity = 9.81;
    private const double Height = 10;

    private static FuncDynamics<double> Ball() => new(2, (t, y, d) => { d[0] = y[1]; d[1] = -Gravity; });

    private static readonly SolveOptions Options = new() { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-12 };

    [Test]
    public void DroppedBall_HitsTheGroundAtSqrtTwoHOverG()
    {
        var ground = new OdeEvent<double>((t, y) => y[0], EventDirection.Falling, isTerminal: true);
        var sol = Ode.Solve(Ball(), [Height, 0.0], SaveAt.Times(0, 0.5, 1, 5), Options, [ground]);
        double expected = Math.Sqrt(2 * Height / Gravity);
        Assert.That(sol.TerminatedByEvent, Is.True);
        Assert.That(sol.Events, Has.Count.EqualTo(1));
        Assert.That(sol.Events[0].Time, Is.EqualTo(expected).Within(1e-9));
        Assert.That(sol.Events[0].State[0], Is.EqualTo(0).Within(1e-9));
        Assert.That(sol.Events[0].State[1], Is.EqualTo(-Gravity * expected).Within(1e-8));
        // Outputs before the impact are kept; the one after it is not reached.
        Assert.That(sol.Times, Is.EqualTo(new[] { 0.0, 0.5, 1.0 }));
        Assert.That(sol.States[2][0], Is.EqualTo(Height - 0.5 * Gravity).Within(1e-9));
    }

    [Test]
    public void BouncingBall_FollowsItsClosedFormOverThreeBounces()
    {
        const double restitution = 0.8;
        var bounce = new OdeEvent<double>((t, y) => y[0], EventDirection.Falling, isTerminal: false, jump: (t, y) => y[1] = -restitution * y[1]);
        double t1 = Math.Sqrt(2 * Height / Gravity);
        double[] impacts = [t1, t1 + 2 * restitution * t1, t1 + 2 * restitution * t1 + 2 * restitution * restitution * t1];
        // Heights at the apex after each bounce: the ball leaves at speed e^k·g·t1 and rises for e^k·t1.
        double[] apexTimes = [impacts[0] + restitution * t1, impacts[1] + restitution * restitution * t1];
        double[] apexHeights = [restitution * restitution * Height, Math.Pow(restitution, 4) * Height];
        double end = impacts[2] + 0.1;
        var sol = Ode.Solve(Ball(), [Height, 0.0], SaveAt.Times(0, apexTimes[0], apexTimes[1], end), Options, [bounce]);

        Assert.That(sol.Events, Has.Count.EqualTo(3));
        for (int k = 0; k < 3; k++)
        {
            Assert.That(sol.Events[k].Time, Is.EqualTo(impacts[k]).Within(1e-8), $"impact {k + 1}");
            Assert.That(sol.Events[k].State[1], Is.EqualTo(-Math.Pow(restitution, k) * Gravity * t1).Within(1e-7), $"impact speed {k + 1}");
        }
        for (int k = 0; k < 2; k++)
        {
            Assert.That(sol.States[1 + k][0], Is.EqualTo(apexHeights[k]).Within(1e-7), $"apex {k + 1}");
            Assert.That(sol.States[1 + k][1], Is.EqualTo(0).Within(1e-7), $"apex speed {k + 1}");
        }
        double sinceLast = end - impacts[2];
        double leave = Math.Pow(restitution, 3) * Gravity * t1;
        Assert.That(sol.States[3][0], Is.EqualTo(leave * sinceLast - 0.5 * Gravity * sinceLast * sinceLast).Within(1e-7));
    }

    [Test]
    public void Direction_FiltersCrossings_AndSeveralEventsAreReportedInTimeOrder()
    {
        var oscillator = new FuncDynamics<double>(2, (t, y, d) => { d[0] = y[1]; d[1] = -y[0]; });
        EventFunction<double> x = (t, y) => y[0];
        var rising = new OdeEvent<double>(x, EventDirection.Rising);
        var falling = new OdeEvent<double>(x, EventDirection.Falling);
        var either = new OdeEvent<double>(x, EventDirection.Either);
        var sol = Ode.Solve(oscillator, [1.0, 0.0], SaveAt.End(0, 10), Options, [rising, falling, either]);

        double[] Times(int index) => [.. sol.Events.Where(e => e.EventIndex == index).Select(e => e.Time)];
        Assert.That(Times(0), Is.EqualTo(new[] { 1.5 * Math.PI }).Within(1e-8));
        Assert.That(Times(1), Is.EqualTo(new[] { 0.5 * Math.PI, 2.5 * Math.PI }).Within(1e-8));
        Assert.That(Times(2), Is.EqualTo(new[] { 0.5 * Math.PI, 1.5 * Math.PI, 2.5 * Math.PI }).Within(1e-8));
        Assert.That(sol.Events.Select(e => e.Time), Is.Ordered);
        Assert.That(sol.TerminatedByEvent, Is.False);
    }

    [Test]
    public void TerminalEvent_InReverseTimeStopsAtTheCrossing()
    {
        var decay = new FuncDynamics<double>(1, (t, y, d) => d[0] = -y[0]);
        // Backwards from t = 0, y grows as e^{-t}: it reaches 2 at t = −ln 2.
        var reach = new OdeEvent<double>((t, y) => y[0] - 2, EventDirection.Rising, isTerminal: true);
        var sol = Ode.Solve(decay, [1.0], SaveAt.End(0, -5), Options, [reach]);
        Assert.That(sol.Events.Single().Time, Is.EqualTo(-Math.Log(2)).Within(1e-9));
    }

    [Test]
    public void TerminalEventWithJump_IsRejected()
    {
        Assert.That(() => new OdeEvent<double>((t, y) => y[0], isTerminal: true, jump: (t, y) => { }),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("jump"));
    }
}
