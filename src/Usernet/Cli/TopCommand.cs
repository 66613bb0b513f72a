using Usernet.Control;
using Usernet.Http;

namespace Usernet.Cli;

/// <summary>
/// <c>usernet top</c>: a live view of a running instance, read from its control API every second
/// (<see cref="TopReading"/>) and laid out by <see cref="TopFrame"/>. On a terminal it takes the
/// alternate screen, hides the cursor, redraws in place (cursor home, each line cleared to its end,
/// the rest of the screen cleared) and reads keys (b, r, n: sort; q: quit); leaving by q, Ctrl-C
/// or a failure gives the screen and the cursor back. Plain VT100/xterm sequences, which every
/// terminal and SSH client speaks. With --once, or when standard input or output is not a
/// terminal, it prints plain frames with no escapes.
/// </summary>
internal static class TopCommand
{
    private const string Usage = "usage: usernet top [--once] [--sort bytes|rate|name] [--instance NAME]";

    /// <summary>Columns for plain output to a pipe or file, which has no width of its own (COLUMNS overrides).</summary>
    private const int PlainWidth = 160;

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public static int Execute(IReadOnlyList<string> args)
    {
        var line = new CommandLine()
            .Option("--instance", "NAME", "the instance to watch (default: the only one running)")
            .Option("--sort", "KEY", "the flows' order at start: bytes (default), rate or name")
            .Flag("--once", "print one frame (rates over one second) and exit")
            .Flag("--help", "show this help", alias: "-h")
            .Parse(args);
        if (line.Has("--help"))
        {
            Console.WriteLine(Usage);
            foreach (string help in line.HelpLines())
            {
                Console.WriteLine(help);
            }
            return 0;
        }
        if (line.Positional.Count != 0)
        {
            throw new UsageException(Usage);
        }
        var sort = line.Value("--sort") switch
        {
            null or "bytes" => TopSort.Bytes,
            "rate" => TopSort.Rate,
            "name" => TopSort.Name,
            var other => throw new UsageException($"--sort: \"{other}\" is not bytes, rate or name"),
        };
        if (ControlCli.SocketOf(InstanceNameOption.Read(line)) is not { } socket)
        {
            return 1;
        }
        try
        {
            if (line.Has("--once"))
            {
                var first = Read(socket);
                Thread.Sleep(Interval);
                Console.Write(Plain(Read(socket).Sample(first), sort));
                return 0;
            }
            return Console.IsOutputRedirected || Console.IsInputRedirected ? PlainLoop(socket, sort) : Live(socket, sort);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or HttpFormatException or ControlRequestException)
        {
            Console.Error.WriteLine($"usernet: the instance at {socket} did not answer: {e.Message}");
            return 1;
        }
    }

    /// <summary>One reading of the instance: its counters, guests and open flows.</summary>
    private static TopReading Read(string socket)
    {
        string stats = Get(socket, "/stats");
        string guests = Get(socket, "/guests");
        string flows = Get(socket, "/flows/open");
        return TopReading.Parse(DateTime.UtcNow, stats, guests, flows);
    }

    private static string Get(string socket, string path)
    {
        var (status, body) = ControlClient.SendAsync(socket, "GET", path).GetAwaiter().GetResult();
        return status == 200 ? body : throw new ControlRequestException(status, $"GET {path} answered {status}: {ControlCli.ExtractError(body) ?? body.Trim()}");
    }

    private static string Plain(TopSample sample, TopSort sort)
    {
        int width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int columns) && columns > 0 ? columns : PlainWidth;
        // No height to fit: every guest and flow is printed.
        return string.Join('\n', TopFrame.Lines(sample, sort, width, int.MaxValue / 2)) + "\n";
    }

    /// <summary>Plain frames, one a second, for a pipe or a file, until Ctrl-C.</summary>
    private static int PlainLoop(string socket, TopSort sort)
    {
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var previous = Read(socket);
            while (!stop.Token.WaitHandle.WaitOne(Interval))
            {
                var reading = Read(socket);
                Console.WriteLine(Plain(reading.Sample(previous), sort));
                previous = reading;
            }
            return 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>The live view on a terminal: the alternate screen, a frame a second, and keys.</summary>
    private static int Live(string socket, TopSort sort)
    {
        bool quit = false;
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            Volatile.Write(ref quit, true);
        };
        Console.CancelKeyPress += onCancel;
        var output = Console.Out;
        // The alternate screen, cursor hidden: what was on the terminal comes back on leaving.
        output.Write("\e[?1049h\e[?25l");
        output.Flush();
        try
        {
            var previous = Read(socket);
            var sample = previous.Sample(null);
            var due = DateTime.UtcNow + Interval;
            bool redraw = true;
            while (!Volatile.Read(ref quit))
            {
                if (DateTime.UtcNow >= due)
                {
                    var reading = Read(socket);
                    sample = reading.Sample(previous);
                    previous = reading;
                    due = DateTime.UtcNow + Interval;
                    redraw = true;
                }
                while (Console.KeyAvailable)
                {
                    switch (char.ToLowerInvariant(Console.ReadKey(intercept: true).KeyChar))
                    {
                        case 'q':
                            return 0;
                        case 'b':
                            sort = TopSort.Bytes;
                            break;
                        case 'r':
                            sort = TopSort.Rate;
                            break;
                        case 'n':
                            sort = TopSort.Name;
                            break;
                    }
                    redraw = true;
                }
                if (redraw)
                {
                    Draw(output, TopFrame.Lines(sample, sort, Width(), Height()));
                    redraw = false;
                }
                Thread.Sleep(50);
            }
            return 0;
        }
        finally
        {
            output.Write("\e[?25h\e[?1049l");
            output.Flush();
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>One frame over the last: home, each line then clear to its end, then clear below; written at once.</summary>
    private static void Draw(TextWriter output, string[] lines)
    {
        var frame = new System.Text.StringBuilder("\e[H");
        for (int i = 0; i < lines.Length; i++)
        {
            frame.Append(lines[i]).Append("\e[K");
            if (i < lines.Length - 1)
            {
                frame.Append("\r\n");
            }
        }
        frame.Append("\e[J");
        output.Write(frame.ToString());
        output.Flush();
    }

    private static int Width()
    {
        try
        {
            return Math.Max(20, Console.WindowWidth);
        }
        catch (IOException)
        {
            return 80;
        }
    }

    /// <summary>The terminal's height less one, so that the last line never scrolls the screen.</summary>
    private static int Height()
    {
        try
        {
            return Math.Max(8, Console.WindowHeight - 1);
        }
        catch (IOException)
        {
            return 23;
        }
    }
}
