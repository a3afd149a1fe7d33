namespace PxeKit.Server.Options;

/// <summary>A mistake in the configuration: one sentence naming the key (and line), for the user, not a bug.</summary>
public sealed class ConfigurationException(string message) : Exception(message);
