using Microsoft.Extensions.Logging;

namespace DarkShip.Testing;

/// <summary>One log call as a <see cref="RecordingLogger{T}"/> kept it.</summary>
public sealed record LogRecord(LogLevel Level, EventId EventId, string Message, Exception? Exception);

/// <summary>A logger that keeps what it is told, for tests that assert a failure is reported.</summary>
public sealed class RecordingLogger<T> : ILogger<T>
{
    private readonly Lock gate = new();
    private readonly List<LogRecord> records = [];

    /// <summary>Everything logged so far.</summary>
    public IReadOnlyList<LogRecord> Records
    {
        get
        {
            lock (gate)
            {
                return [.. records];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (gate)
        {
            records.Add(new LogRecord(logLevel, eventId, formatter(state, exception), exception));
        }
    }
}
