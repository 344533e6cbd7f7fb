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

    /// <summary>Serves until stopped; a misconfiguration stops the start with the setting's name and exit code 2.</summary>
    public static async Task<int> RunAsync(string[] hostArgs, CancellationToken cancellationToken)
    {
        try
        {
            var app = HandlerApp.Build(hostArgs);
            await app.RunAsync(cancellationToken);
            return 0;
        }
        catch (Exception e) when (e is MissingSettingException or InvalidSettingException or Microsoft.Extensions.Options.OptionsValidationException)
        {
            await Console.Error.WriteLineAsync($"serve: not started: {e.Message}");
            return 2;
        }
    }
}
