namespace DarkShip.Scoring.XGBoost;

/// <summary>A growable buffer that keeps its storage across <see cref="Clear"/>, so reading many trees reuses it.</summary>
internal sealed class ArrayBuffer<T>
{
    private T[] items = new T[64];

    public int Count { get; private set; }

    public ReadOnlySpan<T> Span => items.AsSpan(0, Count);

    public void Add(T item)
    {
        if (Count == items.Length)
        {
            Array.Resize(ref items, items.Length * 2);
        }

        items[Count++] = item;
    }

    public void Clear() => Count = 0;
}
