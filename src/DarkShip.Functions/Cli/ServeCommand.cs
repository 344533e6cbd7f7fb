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

    public static async Task<int> RunAsync(ParseResult result, CancellationToken cancellationToken)
    {
        var app = HandlerApp.Build([.. result.UnmatchedTokens]);
        await app.RunAsync();
        return 0;
    }
}
