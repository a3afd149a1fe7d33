using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PxeKit.Server.Boot;
using PxeKit.Server.Options;

namespace PxeKit.Server.Hosting;

/// <summary>Builds the one process that serves everything: Kestrel for HTTP, hosted services for the UDP servers.</summary>
public static class PxeKitHost
{
    /// <param name="reloadOptions">Reads the configuration file again with the command line's flags on top; with it
    /// (and a configuration file) the file is watched and reloaded on change.</param>
    public static WebApplication Build(PxeKitOptions options, Action<ILoggingBuilder>? configureLogging = null, Func<PxeKitOptions>? reloadOptions = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });

        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(options.LogLevel);
        builder.Logging.AddFilter("Microsoft", options.LogLevel > LogLevel.Warning ? options.LogLevel : LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // A listener that cannot start is reported by `pxekit serve` in one sentence; the host's own report of the
        // same failure is a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        if (configureLogging is null)
        {
            builder.Logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
                console.IncludeScopes = false;
            });
        }
        else
        {
            configureLogging(builder.Logging);
        }

        // pxelinux.cfg/01-MAC files are made from what the trace knows of the MAC; the trace exists once the
        // container does, so the lookup goes through the container.
        IServiceProvider? services = null;
        var live = new LiveBootConfiguration(BootConfiguration.Create(options, mac => ClientFactsFromTrace(services, options, mac)));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(live);
        if (options.ConfigFile is { } configFile && reloadOptions is not null)
        {
            builder.Services.AddHostedService(provider => new ConfigurationReloader(live, configFile, reloadOptions,
                next =>
                {
                    BootRootSetup.Prepare(next, provider.GetRequiredService<ILoggerFactory>().CreateLogger("PxeKit"));
                    return BootConfiguration.Create(next, mac => ClientFactsFromTrace(services, next, mac));
                },
                provider.GetRequiredService<ILogger<ConfigurationReloader>>()));
        }
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ServerEndpoints>();
        builder.Services.AddSingleton<TftpBootFiles>();
        builder.Services.AddSingleton<ServerScripts>();
        builder.Services.AddBootTraces(options);
        if (options.Tftp.Enabled)
            builder.Services.AddHostedService<TftpListener>();
        if (options.Dhcp.Mode != PxeKit.Protocols.Dhcp.DhcpMode.Off)
            builder.Services.AddHostedService<DhcpListener>();

        if (options.Http.Enabled)
        {
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.AddServerHeader = false;
                kestrel.Limits.MaxConcurrentConnections = options.Http.MaxConnections;
                kestrel.Limits.MaxConcurrentUpgradedConnections = 0;
                kestrel.Limits.MaxRequestBodySize = 64 * 1024; // a GET-only server; nothing legitimate sends a body
                kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(30);
                kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(240, TimeSpan.FromSeconds(5));
                foreach (var address in options.Listen)
                {
                    // HTTP/1.1 only: iPXE and firmware speak HTTP/1.x, and HTTP/2 brings rapid-reset class DoS (H7).
                    kestrel.Listen(address, options.Http.Port, listen => listen.Protocols = HttpProtocols.Http1);
                }
            });
        }
        else
        {
            builder.Services.AddSingleton<IServer, NoHttpServer>();
        }

        var app = builder.Build();
        services = app.Services;
        app.Services.GetRequiredService<IBootTrace>(); // opens traces.db now: its problems are reported at start
        if (options.Http.Enabled)
        {
            app.Services.GetRequiredService<ServerScripts>().MapPaths(app);
            HttpBootFiles.Map(app, live);
        }
        return app;
    }

    internal static ClientFacts ClientFactsFromTrace(IServiceProvider? services, PxeKitOptions options, string mac)
    {
        var known = (services?.GetService(typeof(IBootTrace)) as IBootTrace)?.FindByMac(mac);
        return new ClientFacts
        {
            Mac = mac,
            Address = known?.Address,
            Uuid = known?.Uuid,
            ClientHostname = known?.Hostname,
            VendorClass = known?.VendorClass,
            UserClass = known?.UserClass,
            ServerAddress = BootConfiguration.DefaultServerAddress(options),
            HttpPort = options.Http.Port,
            TftpPort = options.Tftp.Port,
        };
    }

    /// <summary>Where HTTP actually listens (resolves port 0).</summary>
    public static IReadOnlyList<Uri> HttpAddresses(WebApplication app) =>
        [.. (app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []).Select(a => new Uri(a))];

    /// <summary>Stands in for Kestrel when HTTP is disabled, so that the host runs the UDP servers alone.</summary>
    private sealed class NoHttpServer : IServer
    {
        public IFeatureCollection Features { get; } = new FeatureCollection();

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
            where TContext : notnull => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}
