using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

using DarkShip.Storage;
using Xunit;

namespace DarkShip.Testing.Storage;

/// <summary>
/// A private Azurite for the test run: the repository's pinned npm package (<c>npm ci</c> installs it),
/// on free loopback ports, with data in a temporary folder that is deleted afterwards.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private readonly string dataFolder = Path.Combine(Path.GetTempPath(), "darkship-azurite-" + Guid.NewGuid().ToString("N"));
    private Process? azurite;
    private int blob;
    private int queue;
    private int table;

    public StorageEndpoints Endpoints { get; private set; } = null!;

    /// <summary>The connection string of this Azurite, as an app setting would carry it.</summary>
    public string ConnectionString { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var root = RepositoryRoot();
        var script = Path.Combine(root, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"Azurite is not installed at {script}: run 'npm ci' in {root} (.ci/run does).");
        }

        Directory.CreateDirectory(dataFolder);
        for (var attempt = 1; ; attempt++)
        {
            (blob, queue, table) = FreePorts();
            try
            {
                await StartAsync(script);
                break;
            }
            catch (AzuriteExitedException) when (attempt < 3)
            {
                // A port taken between choosing it and Azurite binding it (another fixture starting at the same moment): choose again.
                azurite?.Dispose();
            }
        }

        ConnectionString =
            $"DefaultEndpointsProtocol=http;AccountName={StorageEndpoints.DevelopmentAccount};AccountKey={StorageEndpoints.DevelopmentKey};" +
            $"TableEndpoint=http://127.0.0.1:{table}/{StorageEndpoints.DevelopmentAccount};BlobEndpoint=http://127.0.0.1:{blob}/{StorageEndpoints.DevelopmentAccount}";
        Endpoints = StorageEndpoints.FromConnectionString(ConnectionString);
        Clients = new StorageClients(Endpoints);
    }

    /// <summary>The SDK clients of this Azurite, made as the app makes them.</summary>
    public StorageClients Clients { get; private set; } = null!;

    /// <summary>A client for one table of this Azurite.</summary>
    public Azure.Data.Tables.TableClient Table(string name) => Clients.Table(name);

    /// <summary>A client for one table with options of the test's own (a policy that cuts connections, no retries…).</summary>
    public Azure.Data.Tables.TableClient Table(string name, Action<Azure.Data.Tables.TableClientOptions> configure)
    {
        var options = new Azure.Data.Tables.TableClientOptions();
        configure(options);
        return new Azure.Data.Tables.TableClient(ConnectionString, name, options);
    }

    /// <summary>A client for one blob container of this Azurite.</summary>
    public Azure.Storage.Blobs.BlobContainerClient Container(string name) => Clients.Container(name);

    /// <summary>Freezes the emulator (SIGSTOP): connections are accepted by the kernel, nothing answers. For chaos tests on a private fixture.</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>Lets a frozen emulator go on (SIGCONT).</summary>
    public void Thaw() => Signal("CONT");

    /// <summary>
    /// Ends the emulator (SIGTERM: it saves its data, which SIGKILL would lose, unlike a real account);
    /// its data stays for <see cref="RestartAsync"/>.
    /// </summary>
    public void Kill()
    {
        Signal("TERM");
        if (!azurite!.WaitForExit(10_000))
        {
            azurite.Kill(entireProcessTree: true);
            azurite.WaitForExit(10_000);
        }
    }

    /// <summary>Starts the emulator again on the same ports and data.</summary>
    public Task RestartAsync() =>
        StartAsync(Path.Combine(RepositoryRoot(), "node_modules", "azurite", "dist", "src", "azurite.js"));

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, azurite!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    private async Task StartAsync(string script)
    {
        var start = new ProcessStartInfo("node")
        {
            ArgumentList =
            {
                script, "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--location", dataFolder,
                "--blobHost", "127.0.0.1", "--blobPort", $"{blob}",
                "--queueHost", "127.0.0.1", "--queuePort", $"{queue}",
                "--tableHost", "127.0.0.1", "--tablePort", $"{table}",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        azurite = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        azurite.OutputDataReceived += (_, _) => { };
        azurite.ErrorDataReceived += (_, _) => { };
        azurite.BeginOutputReadLine();
        azurite.BeginErrorReadLine();

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await WaitForPortAsync(blob, deadline.Token);
        await WaitForPortAsync(queue, deadline.Token); // Azurite exits when any of its three ports cannot be bound
        await WaitForPortAsync(table, deadline.Token);
    }

    public Task DisposeAsync()
    {
        if (azurite is { HasExited: false })
        {
            Signal("CONT"); // a frozen one cannot die
            azurite.Kill(entireProcessTree: true);
            azurite.WaitForExit(10_000);
        }

        azurite?.Dispose();
        try
        {
            Directory.Delete(dataFolder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open is left in the temp folder; nothing depends on it.
        }

        return Task.CompletedTask;
    }

    private async Task WaitForPortAsync(int port, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (azurite!.HasExited)
            {
                throw new AzuriteExitedException($"Azurite exited with code {azurite.ExitCode} before listening on {port}.");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    /// <summary>Three free loopback ports, all different: each is held until all three are chosen.</summary>
    private static (int Blob, int Queue, int Table) FreePorts()
    {
        var listeners = Enumerable.Range(0, 3).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var listener in listeners)
            {
                listener.Start();
            }

            var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
            return (ports[0], ports[1], ports[2]);
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }
        }
    }

    private sealed class AzuriteExitedException(string message) : InvalidOperationException(message);

    /// <summary>The repository root: the folder holding package.json and Functions.sln.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "package.json")) && File.Exists(Path.Combine(dir.FullName, "Functions.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (with package.json and Functions.sln) is not above " + AppContext.BaseDirectory);
    }
}
