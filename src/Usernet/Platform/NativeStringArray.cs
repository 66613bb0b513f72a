using System.Runtime.InteropServices;
using System.Text;

namespace Usernet.Platform;

/// <summary>A NULL-terminated array of C strings in native memory, as execve wants argv and envp.</summary>
internal sealed unsafe class NativeStringArray : IDisposable
{
    private readonly byte** _array;
    private readonly int _count;

    public NativeStringArray(IReadOnlyList<string> values)
    {
        _count = values.Count;
        _array = (byte**)NativeMemory.AllocZeroed((nuint)(_count + 1), (nuint)sizeof(byte*));
        for (int i = 0; i < _count; i++)
        {
            _array[i] = ToCString(values[i]);
        }
    }

    public byte** Pointer => _array;

    public static byte* ToCString(string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        byte* native = (byte*)NativeMemory.Alloc((nuint)bytes.Length + 1);
        bytes.CopyTo(new Span<byte>(native, bytes.Length));
        native[bytes.Length] = 0;
        return native;
    }

    /// <summary>The current environment as NAME=VALUE strings.</summary>
    public static List<string> CurrentEnvironment()
    {
        var result = new List<string>();
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            result.Add($"{entry.Key}={entry.Value}");
        }
        return result;
    }

    public void Dispose()
    {
        for (int i = 0; i < _count; i++)
        {
            NativeMemory.Free(_array[i]);
        }
        NativeMemory.Free(_array);
    }
}
