using System.Runtime.CompilerServices;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>A theory that needs root: skipped, with the reason, when the tests do not run as root.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber) => RootFactAttribute.SkipUnlessRoot(this);
}
