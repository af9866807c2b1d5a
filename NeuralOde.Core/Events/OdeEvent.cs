using System.Numerics;

namespace NeuralOde.Core.Events;

/// <summary>An event function g(t, y); an event occurs where it crosses zero.</summary>
/// <typeparam name="T">The state's element type.</typeparam>
/// <param name="t">The time.</param>
/// <param name="y">The state.</param>
/// <returns>g(t, y).</returns>
public delegate double EventFunction<T>(double t, ReadOnlySpan<T> y);

/// <summary>A state jump applied at an event: modifies y in place (e.g. reverses a velocity).</summary>
/// <typeparam name="T">The state's element type.</typeparam>
/// <param name="t">The event time.</param>
/// <param name="y">The state at the event, to modify.</param>
public delegate void EventJump<T>(double t, Span<T> y);

/// <summary>Which zero crossings of g count.</summary>
public enum EventDirection
{
    /// <summary>Both directions.</summary>
    Either,

    /// <summary>g goes from negative to non-negative.</summary>
    Rising,

    /// <summary>g goes from positive to non-positive.</summary>
    Falling,
}

/// <summary>An event g(t, y) = 0 located on the dense output, with a direction, terminal or not, and an optional state jump.</summary>
/// <typeparam name="T">The state's element type.</typeparam>
/// <remarks>
/// Crossings are detected by a sign change of g between the start, the middle and the end of each accepted step (so two
/// crossings within half a step of each other can be missed: limit the step with
/// <see cref="StepSize.PiController.DtMax"/> if that matters), then located with
/// MathNet's Brent solver on the step's continuous extension to within <see cref="TimeTolerance"/> in t. A terminal
/// event ends the solve there; a non-terminal event with a <see cref="Jump"/> modifies the state and restarts the
/// integration from the event (f is re-evaluated, never reused across the jump).
/// </remarks>
public sealed class OdeEvent<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates an event.</summary>
    /// <param name="function">g(t, y).</param>
    /// <param name="direction">Which crossings count.</param>
    /// <param name="isTerminal">Whether the solve stops at the event.</param>
    /// <param name="jump">A state jump applied at the event (non-terminal events only), or null.</param>
    /// <exception cref="ArgumentException">A terminal event has a jump.</exception>
    public OdeEvent(EventFunction<T> function, EventDirection direction = EventDirection.Either, bool isTerminal = false, EventJump<T>? jump = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (isTerminal && jump is not null) throw new ArgumentException("A terminal event ends the solve; it cannot also apply a jump.", nameof(jump));
        Function = function;
        Direction = direction;
        IsTerminal = isTerminal;
        Jump = jump;
    }

    /// <summary>g(t, y).</summary>
    public EventFunction<T> Function { get; }

    /// <summary>Which crossings count.</summary>
    public EventDirection Direction { get; }

    /// <summary>Whether the solve stops at the event.</summary>
    public bool IsTerminal { get; }

    /// <summary>The state jump applied at the event, or null.</summary>
    public EventJump<T>? Jump { get; }

    /// <summary>The accuracy of the located time (default 1e-12).</summary>
    public double TimeTolerance { get; init; } = 1e-12;
}

/// <summary>An event that happened during a solve.</summary>
/// <typeparam name="T">The state's element type.</typeparam>
/// <param name="EventIndex">The index of the event in the list passed to the solve.</param>
/// <param name="Time">The located time.</param>
/// <param name="State">The state at that time, before any jump.</param>
public sealed record EventOccurrence<T>(int EventIndex, double Time, T[] State);
