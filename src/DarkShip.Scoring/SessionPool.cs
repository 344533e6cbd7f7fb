namespace DarkShip.Scoring;

/// <summary>
/// Reusable per-call state for a model whose library objects are not thread-safe (ML.NET's rows, ONNX
/// Runtime's bound buffers): a call rents one, uses it alone and gives it back. Renting and returning
/// allocate nothing once the pool is warm; a burst beyond its slots makes a new one, kept if a slot is
/// free on return.
/// </summary>
/// <typeparam name="T">The state.</typeparam>
public sealed class SessionPool<T>(Func<T> create, int slots = 0)
    where T : class
{
    private readonly T?[] free = new T?[slots > 0 ? slots : Math.Max(4, Environment.ProcessorCount * 2)];

    /// <summary>A state no other call holds.</summary>
    public T Rent()
    {
        for (var i = 0; i < free.Length; i++)
        {
            if (Volatile.Read(ref free[i]) is not null && Interlocked.Exchange(ref free[i], null) is { } taken)
            {
                return taken;
            }
        }

        return create();
    }

    /// <summary>Gives <paramref name="session"/> back for the next call.</summary>
    public void Return(T session)
    {
        for (var i = 0; i < free.Length; i++)
        {
            if (Interlocked.CompareExchange(ref free[i], session, null) is null)
            {
                return;
            }
        }
    }
}
