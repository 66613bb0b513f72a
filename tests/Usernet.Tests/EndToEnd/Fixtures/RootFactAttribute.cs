using System.Runtime.CompilerServices;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>A fact that needs root: skipped, with the reason, when the tests do not run as root.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber) => SkipUnlessRoot(this);

    /// <summary>Makes <paramref name="test"/> skip unless <see cref="TestEnvironment.IsRoot"/>, saying why.</summary>
    internal static void SkipUnlessRoot(FactAttribute test)
    {
        // Skip is the reason; SkipUnless makes it apply only when the property is false.
        test.Skip = TestEnvironment.NeedsRoot;
        test.SkipType = typeof(TestEnvironment);
        test.SkipUnless = nameof(TestEnvironment.IsRoot);
    }
}
