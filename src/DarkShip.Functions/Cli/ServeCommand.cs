using System.CommandLine;
using DarkShip.Functions.Hosting;

namespace DarkShip.Functions.Cli;

internal static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", $"Run the custom handler on 127.0.0.1:${HandlerApp.PortVariable} (what the Functions host launches).")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(RunAsync);
        return command;
    }

    /// <summary>Whether <paramref name="args"/> is <c>serve …</c>, the host's <c>customHandler.description.arguments</c>.</summary>
    public static bool IsLaunchedByHost(string[] args) => args is ["serve", ..];

    public static Task<int> RunAsync(ParseResult result, CancellationToken cancellationToken) =>
        RunAsync([.. result.UnmatchedTokens], cancellationToken);

    public static async Task<int> RunAsync(string[] hostArgs, CancellationToken cancellationToken)
    {
        var app = HandlerApp.Build(hostArgs);
        await app.RunAsync(cancellationToken);
        return 0;
    }
}
