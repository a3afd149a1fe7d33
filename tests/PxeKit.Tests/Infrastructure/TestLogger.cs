using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace PxeKit.Tests.Infrastructure;

/// <summary>Collects log lines so tests can check that a refusal was logged, and why.</summary>
internal sealed class TestLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue((logLevel, formatter(state, exception)));

    public bool Contains(string fragment) => Lines.Any(l => l.Message.Contains(fragment, StringComparison.Ordinal));

    public override string ToString() => string.Join('\n', Lines.Select(l => $"{l.Level}: {l.Message}"));
}
