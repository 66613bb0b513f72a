using Usernet.Platform;

namespace Usernet.Tests.Platform;

/// <summary>
/// The broadcast reaches every thread of this test process, the runtime's included, with a
/// call that changes nothing that matters: each thread's name (prctl PR_SET_NAME), which
/// /proc/self/task/TID/comm shows. Dropping capabilities here would take them from the tests
/// that follow; the end-to-end tests show that on the usernet process itself.
/// </summary>
public sealed class ProcessWideSyscallsTests
{
    [Fact]
    public unsafe void EveryThreadMakesTheCalls()
    {
        // Threads the test itself starts, and ones parked in a blocking call.
        using var release = new ManualResetEventSlim();
        var parked = Enumerable.Range(0, 3).Select(_ => new Thread(() => release.Wait()) { IsBackground = true }).ToList();
        parked.ForEach(t => t.Start());
        const string Name = "broadcast-test";
        byte* name = stackalloc byte[16];
        System.Text.Encoding.ASCII.GetBytes(Name, new Span<byte>(name, 16));
        name[Name.Length] = 0;
        const long SYS_prctl = 157;
        const long PR_SET_NAME = 15;
        // The pointer must outlive any late signal: this one is copied to memory never freed.
        byte* kept = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(16);
        Buffer.MemoryCopy(name, kept, 16, 16);
        try
        {
            ProcessWideSyscalls.Run([new(SYS_prctl, PR_SET_NAME, (long)kept)], tid => Comm(tid) is null or Name, TimeSpan.FromSeconds(10));
            var threads = ProcessWideSyscalls.Threads();
            Assert.True(threads.Count > 4, $"{threads.Count} threads");
            Assert.All(threads, tid => Assert.True(Comm(tid) is null or Name, $"thread {tid} is {Comm(tid)}"));
        }
        finally
        {
            release.Set();
        }
    }

    private static string? Comm(int tid)
    {
        try
        {
            return File.ReadAllText($"/proc/self/task/{tid}/comm").Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }
}
