namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>Tests that look at the whole machine, run with no other test beside them.</summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;
