using System.CommandLine;
using System.Text.Json;
using DarkShip.Functions.Definitions;

namespace DarkShip.Functions.Cli;

internal static class FunctionsCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--output") { Description = "The package folder: one sub-folder per function is written there.", Required = true };
        var generate = new Command("generate", "Write {Function}/function.json for every function, from the catalog in code.") { output };
        generate.SetAction(result =>
        {
            var folder = result.GetValue(output)!;
            foreach (var function in FunctionCatalog.All)
            {
                Write(folder, function);
                result.InvocationConfiguration.Output.WriteLine($"{function.Name}/function.json");
            }

            return 0;
        });

        var list = new Command("list", "List the functions and their triggers.");
        list.SetAction(result =>
        {
            foreach (var function in FunctionCatalog.All)
            {
                result.InvocationConfiguration.Output.WriteLine($"{function.Name,-14} {function.Trigger}");
            }
        });

        return new Command("functions", "The app's function definitions.") { generate, list };
    }

    public static void Write(DirectoryInfo folder, FunctionDefinition function)
    {
        var dir = Directory.CreateDirectory(Path.Combine(folder.FullName, function.Name));
        File.WriteAllText(Path.Combine(dir.FullName, "function.json"), function.ToFunctionJson().ToJsonString(Indented) + "\n");
    }
}
