namespace DarkShip.Serving;

/// <summary>
/// Wakes waiters each time something made progress, so they can re-check their condition: waiting for
/// a state without polling and without missing a wake-up that lands between the check and the wait.
/// </summary>
public sealed class ProgressSignal
{
    private TaskCompletionSource next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Wakes everyone waiting now.</summary>
    public void Pulse() =>
        Interlocked.Exchange(ref next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Returns once <paramref name="condition"/> holds, re-checking it after every <see cref="Pulse"/>.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(condition);
        while (true)
        {
            var pulse = Volatile.Read(ref next).Task; // taken before the check: a pulse after it still wakes us
            if (condition())
            {
                return;
            }

            await pulse.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
