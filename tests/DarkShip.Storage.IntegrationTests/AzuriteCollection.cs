namespace DarkShip.Storage.IntegrationTests;

/// <summary>The tests that share one private Azurite (<see cref="AzuriteFixture"/>) and so run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
