using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PxeKit.Server.Boot;
using PxeKit.Server.Options;
using PxeKit.Server.Storage;

namespace PxeKit.Server.Hosting;

/// <summary>One store behind both trace interfaces; the host disposes it last, after the listeners that record into
/// it, which flushes what is queued.</summary>
internal static class BootTraceServices
{
    public static IServiceCollection AddBootTraces(this IServiceCollection services, PxeKitOptions options)
    {
        services.AddSingleton(provider => new SqliteBootTraceStore(options.Traces, options.DataDirectory,
            provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<SqliteBootTraceStore>>()));
        services.AddSingleton<IBootTrace>(provider => provider.GetRequiredService<SqliteBootTraceStore>());
        services.AddSingleton<IBootTraceQuery>(provider => provider.GetRequiredService<SqliteBootTraceStore>());
        return services;
    }
}
