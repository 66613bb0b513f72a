using System.Text.Json;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>A running instance's counters, as `usernet stats --instance NAME` prints them.</summary>
internal static class UsernetStats
{
    public static JsonElement Read(string instance)
    {
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["stats", "--instance", instance], TimeSpan.FromSeconds(10));
        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }
}
