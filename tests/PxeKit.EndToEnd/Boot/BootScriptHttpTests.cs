using System.Text.RegularExpressions;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Boot;

/// <summary>
/// <c>GET /boot.ipxe</c> of the real <c>pxekit serve</c> with a <c>boot:</c> section, asked as iPXE asks it: the
/// fact-gathering script, the menu or entry the policy picks, navigation between menus, server-checked menu
/// passwords, and hostile queries. Requests go out byte for byte as written (RawHttp), so that repeated parameters
/// and encoded control characters reach the server as a hostile client sends them.
/// </summary>
public sealed partial class BootScriptHttpTests
{
    internal const string Password = "S3cret-pw";
    internal const string Mac = "52:54:00:12:34:56";
    internal const string ClientMac = "52:54:00:aa:bb:cc";

    /// <summary>A lab: a menu with a submenu behind a password, a per-MAC override, a menu nothing reaches, and
    /// an entry whose kernel line carries the client's hostname.</summary>
    internal const string LabYaml = """
        boot:
          default: lab
          entries:
            installer: {kind: linux, title: Installer, kernel: vmlinuz, initrd: initrd.gz, args: "console=ttyS0 hostname={{hostname}} mac={{mac}}"}
            rescue: {kind: linux, title: Rescue, kernel: vmlinuz, args: rescue}
            secret: {kind: script, title: Secret, script: "echo secret-entry"}
            disk: {kind: local, title: Local disk}
          menus:
            lab:
              title: Lab
              timeout: 5s
              default: installer
              items: [installer, rescue, locked]
            locked:
              title: Locked
              password: S3cret-pw
              default: disk
              items: [secret, disk]
            other:
              title: Unreached
              items: [rescue]
          clients:
            - {mac: "52:54:00:aa:bb:cc", name: ws01, boot: rescue}
        """;

    private const string Full = "platform=efi&buildarch=x86_64";

    [Theory]
    [InlineData("/boot.ipxe")]
    [InlineData("/boot.ipxe?mac=52:54:00:12:34:56")]
    [InlineData("/boot.ipxe?mac=52:54:00:12:34:56&buildarch=x86_64")]
    public async Task Without_platform_facts_the_script_asks_ipxe_for_them_and_chains_back_to_where_it_was_reached(string target)
    {
        await using var server = await PxeKitProcess.StartAsync(LabYaml);

        var response = await GetAsync(server, target);

        Assert.Equal(200, response.Status);
        Assert.Equal("#!ipxe\n"
            + "set pxekit-cpu ${buildarch}\n"
            + "iseq ${platform} pcbios && cpuid --ext 29 && set pxekit-cpu x86_64 ||\n"
            + $"chain --autofree http://127.0.0.1:{server.HttpPort}/boot.ipxe?mac=${{netX/mac}}&platform=${{platform}}&buildarch=${{buildarch}}&cpu=${{pxekit-cpu}}&uuid=${{uuid}}&hostname=${{hostname:uristring}}\n",
            Body(response));
        Assert.Equal("no-store", response.Header("Cache-Control"));
    }

    [Fact]
    public async Task A_full_request_gets_the_menu_the_policy_picks_as_plain_text_no_cache_may_keep()
    {
        await using var server = await PxeKitProcess.StartAsync(LabYaml);

        var response = await GetAsync(server, $"/boot.ipxe?mac={Mac}&{Full}");

        Assert.Equal(200, response.Status);
        Assert.Equal("text/plain; charset=utf-8", response.Header("Content-Type"));
        Assert.Equal("no-store", response.Header("Cache-Control"));
        var script = Body(response);
        Assert.StartsWith($"#!ipxe\n# PxeKit: {Mac} (efi-x64): menu 'lab' (default)\n", script, StringComparison.Ordinal);
        Assert.Contains("\nmenu Lab\n", script, StringComparison.Ordinal);
        Assert.Contains("\nchoose --default installer --timeout 5000 target || goto pxekit_exit\n", script, StringComparison.Ordinal);
        Assert.Contains($"\nchain --autofree http://127.0.0.1:{server.HttpPort}/boot.ipxe?mac={Mac}&{Full}&menu=locked&password=${{password:uristring}} || goto pxekit_failed\n", script, StringComparison.Ordinal);
        Assert.True(await server.WaitForOutputAsync($"Boot script for {Mac} at 127.0.0.1 (efi-x64): menu 'lab' (default)", TimeSpan.FromSeconds(5)), server.Output);
    }

    [Fact]
    public async Task A_client_named_by_mac_gets_its_own_entry_instead_of_the_default_menu()
    {
        await using var server = await PxeKitProcess.StartAsync(LabYaml);

        var response = await GetAsync(server, $"/boot.ipxe?mac=52-54-00-AA-BB-CC&{Full}");

        Assert.Equal(200, response.Status);
        var script = Body(response);
        Assert.StartsWith($"#!ipxe\n# PxeKit: {ClientMac} (efi-x64): entry 'rescue' (client ws01 ({ClientMac}))\nimgfree\n", script, StringComparison.Ordinal);
        Assert.Contains($"\nkernel http://127.0.0.1:{server.HttpPort}/vmlinuz rescue || goto pxekit_failed\nboot || goto pxekit_failed\n", script, StringComparison.Ordinal);
        Assert.DoesNotContain("\nmenu ", script, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mac=not-a-mac", "'not-a-mac' is not a MAC address")]
    [InlineData("mac=%24%7Bshell%7D", "'%24%7Bshell%7D' is not a MAC address")]
    [InlineData("mac=52:54:00:12:34:56&mac=52:54:00:12:34:57&" + Full, "query parameter 'mac' is repeated, too long or has control characters")]
    [InlineData("mac=52:54:00:12:34:56&" + Full + "&hostname=pc%0Ashell", "query parameter 'hostname' is repeated, too long or has control characters")]
    [InlineData("mac=52:54:00:12:34:56&" + Full + "&menu=lab%0D", "query parameter 'menu' is repeated, too long or has control characters")]
    [InlineData("mac=52:54:00:12:34:56&" + Full + "&uuid=LONG", "query parameter 'uuid' is repeated, too long or has control characters")]
    public async Task A_malformed_query_is_refused_with_an_ipxe_echo_and_the_server_keeps_serving(string query, string reason)
    {
        await using var server = await PxeKitProcess.StartAsync(LabYaml);

        var refused = await GetAsync(server, "/boot.ipxe?" + query.Replace("LONG", new string('a', 300), StringComparison.Ordinal));

        Assert.Equal(400, refused.Status);
        Assert.Equal($"#!ipxe\necho PxeKit: {reason}\nprompt --timeout 15000 Press any key to continue ||\nexit 1\n", Body(refused));
        Assert.True(await server.WaitForOutputAsync($"Boot script refused for 127.0.0.1: {reason}", TimeSpan.FromSeconds(5)), server.Output);
        var next = await GetAsync(server, $"/boot.ipxe?mac={Mac}&{Full}");
        Assert.Equal(200, next.Status);
        Assert.Contains("\nmenu Lab\n", Body(next), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_submenu_the_clients_menu_offers_opens()
    {
        await using var server = await PxeKitProcess.StartAsync(LabYaml);

        var response = await GetAsync(server, $"/boot.ipxe?mac={Mac}&{Full}&menu=locked");

        Assert.Equal(200, response.Status);
        var script = Body(response);
        Assert.Contains("\nmenu Locked\n", script, StringComparison.Ordinal);
        Assert.Contains("\nchoose --default disk target || goto pxekit_exit\n", script, StringComparison.Ordinal);
        // The protected item asks the server; the password itself is never in the script.
        Assert.Contains($"\n:secret\nlogin || goto pxekit_menu\nchain --autofree http://127.0.0.1:{server.HttpPort}/boot.ipxe?mac={Mac}&{Full}&menu=locked&entry=secret&password=${{password:uristring}} || goto pxekit_menu\n",
            script, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, response.WireText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("menu=other", "52:54:00:12:34:56 asked for menu 'other', which its own boot target 'lab' does not offer")]
    [InlineData("menu=nowhere", "52:54:00:12:34:56 asked for menu 'nowhere', which its own boot target 'lab' does not offer")]
    [InlineData("menu=lab&entry=secret", "52:54:00:12:34:56 asked for entry 'secret', which menu 'lab' does not offer")]
    [InlineData("menu=lab&entry=locked", "52:54:00:12:34:56 asked for entry 'locked', which menu 'lab' does not offer")]
    [InlineData("menu=lab&entry=%24%7Bshell%7D", "52:54:00:12:34:56 asked for entry '%24%7Bshell%7D', which menu 'lab' does not offer")]
    public async Task A_menu_or_entry_the_clients_own_target_does_not_offer_is_forbidden_with_the_reason(string navigation, string reason)
    {
        await using var server = await PxeKitProcess.StartAsync(LabYaml);

        var response = await GetAsync(server, $"/boot.ipxe?mac={Mac}&{Full}&{navigation}");

        Assert.Equal(403, response.Status);
        Assert.Equal($"#!ipxe\necho PxeKit: {reason}\nprompt --timeout 15000 Press any key to continue ||\nexit 1\n", Body(response));
        Assert.True(await server.WaitForOutputAsync($"Boot script refused for 127.0.0.1: {reason}", TimeSpan.FromSeconds(5)), server.Output);
    }

    [Fact]
    public async Task A_client_whose_target_is_an_entry_cannot_open_any_menu()
    {
        await using var server = await PxeKitProcess.StartAsync(LabYaml);

        var response = await GetAsync(server, $"/boot.ipxe?mac={ClientMac}&{Full}&menu=lab&entry=installer");

        Assert.Equal(403, response.Status);
        Assert.Contains($"echo PxeKit: {ClientMac} asked for menu 'lab', which its own boot target 'rescue' does not offer\n", Body(response), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("&password=")]
    [InlineData("&password=s3cret-pw")]
    [InlineData("&password=S3cret-pw%20")]
    public async Task A_wrong_menu_password_is_forbidden_logged_as_a_warning_and_chains_back_to_the_menu(string password)
    {
        await using var server = await PxeKitProcess.StartAsync(LabYaml);

        var response = await GetAsync(server, $"/boot.ipxe?mac={Mac}&{Full}&menu=locked&entry=secret{password}");

        Assert.Equal(403, response.Status);
        Assert.Equal("no-store", response.Header("Cache-Control"));
        Assert.Equal("#!ipxe\necho PxeKit: wrong password\nprompt --timeout 5000 Press any key to return to the menu ||\n"
            + $"chain --autofree http://127.0.0.1:{server.HttpPort}/boot.ipxe?mac={Mac}&{Full}&menu=locked\n", Body(response));
        Assert.DoesNotContain("secret-entry", response.WireText, StringComparison.Ordinal);
        Assert.True(await server.WaitForOutputAsync($"warn: PxeKit.Boot[3202] Wrong menu password from {Mac} at 127.0.0.1 for 'secret' in menu 'locked'", TimeSpan.FromSeconds(5)),
            server.Output);
        Assert.DoesNotContain(Password, server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_right_menu_password_opens_the_entry_and_the_default_item_needs_none()
    {
        await using var server = await PxeKitProcess.StartAsync(LabYaml);

        var opened = await GetAsync(server, $"/boot.ipxe?mac={Mac}&{Full}&menu=locked&entry=secret&password={Password}");
        var fallback = await GetAsync(server, $"/boot.ipxe?mac={Mac}&{Full}&menu=locked&entry=disk");

        Assert.Equal(200, opened.Status);
        Assert.StartsWith($"#!ipxe\n# PxeKit: {Mac} (efi-x64): entry 'secret' (default)\necho secret-entry\nexit 0\n", Body(opened), StringComparison.Ordinal);
        Assert.Equal(200, fallback.Status);
        Assert.StartsWith($"#!ipxe\n# PxeKit: {Mac} (efi-x64): entry 'disk' (default)\nexit 0\n", Body(fallback), StringComparison.Ordinal);
        foreach (var response in new[] { opened, fallback })
            Assert.DoesNotContain(Password, Body(response), StringComparison.Ordinal);
        Assert.DoesNotContain(Password, server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_menu_password_and_wrong_guesses_are_not_stored_in_the_boot_trace()
    {
        await using var server = await PxeKitProcess.StartAsync(LabYaml);

        // The password first, where the 80-character cut of the recorded request does not hide it.
        var opened = await GetAsync(server, $"/boot.ipxe?password={Password}&mac={Mac}&{Full}&menu=locked&entry=secret");
        var wrong = await GetAsync(server, $"/boot.ipxe?Password=S3cret-pX&mac={Mac}&{Full}&menu=locked&entry=secret");
        Assert.Equal((200, 403), (opened.Status, wrong.Status));

        var trace = await TraceAsync(server, Mac, text => Regex.Count(text, "password=hidden", RegexOptions.IgnoreCase) >= 2);
        Assert.DoesNotContain(Password, trace, StringComparison.Ordinal);
        Assert.DoesNotContain("S3cret-pX", trace, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ipxe_syntax_in_a_hostname_the_client_reports_reaches_the_kernel_line_inert()
    {
        await using var server = await PxeKitProcess.StartAsync(LabYaml);
        // No DHCP has seen this client: the hostname is only what its query says.
        var hostile = Uri.EscapeDataString("x ${shell} || shell #;'$(reboot)'&\"<>");

        var response = await GetAsync(server, $"/boot.ipxe?mac=52:54:00:77:77:77&{Full}&hostname={hostile}");

        Assert.Equal(200, response.Status);
        var kernel = Assert.Single(Body(response).Split('\n'), line => line.Contains("hostname=", StringComparison.Ordinal));
        var value = HostnameValue().Match(kernel);
        Assert.True(value.Success, kernel);
        Assert.Matches("^[A-Za-z0-9._:/@+,=~%-]+$", value.Groups[1].Value);
        Assert.Equal("x%20%24%7Bshell%7D%20%7C%7C%20shell%20%23%3B%27%24%28reboot%29%27%26%22%3C%3E", value.Groups[1].Value);
        Assert.DoesNotContain("${", kernel, StringComparison.Ordinal);
        Assert.EndsWith(" mac=52:54:00:77:77:77 || goto pxekit_failed", kernel, StringComparison.Ordinal);
        Assert.DoesNotContain("\nshell", Body(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_with_a_boot_section_writes_no_default_script_into_the_root()
    {
        await using var server = await PxeKitProcess.StartAsync(LabYaml);

        Assert.False(File.Exists(Path.Combine(server.Root, "boot.ipxe")), server.Output);
        Assert.DoesNotContain("Wrote a default iPXE script", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_boot_ipxe_file_in_the_root_is_not_what_clients_get_when_the_policy_decides()
    {
        await using var server = await PxeKitProcess.StartAsync(LabYaml,
            root => File.WriteAllText(Path.Combine(root, "boot.ipxe"), "#!ipxe\necho from-the-file\n"));

        var gather = await GetAsync(server, "/boot.ipxe");
        var decided = await GetAsync(server, $"/BOOT.IPXE?mac={Mac}&{Full}");

        Assert.Equal((200, 200), (gather.Status, decided.Status));
        Assert.StartsWith("#!ipxe\nset pxekit-cpu ", Body(gather), StringComparison.Ordinal);
        Assert.Contains("\nchain --autofree ", Body(gather), StringComparison.Ordinal);
        Assert.Contains("\nmenu Lab\n", Body(decided), StringComparison.Ordinal);
        Assert.DoesNotContain("from-the-file", gather.WireText + decided.WireText, StringComparison.Ordinal);
        Assert.Equal("#!ipxe\necho from-the-file\n", File.ReadAllText(Path.Combine(server.Root, "boot.ipxe")));
    }

    [Theory]
    [InlineData("/boot.ipxe?mac=not-a-mac", 400, "is not a MAC address")]
    [InlineData("/boot.ipxe?mac=52:54:00:12:34:56&platform=efi&buildarch=x86_64&menu=other", 403, "does not offer")]
    [InlineData("/boot.ipxe?mac=52:54:00:12:34:56&platform=efi&buildarch=x86_64&menu=locked&entry=secret&password=wrong", 403, "wrong password")]
    public async Task Ipxe_gets_a_refusal_with_status_200_so_that_it_runs_the_echo_and_the_real_status_in_a_header(string target, int status, string shown)
    {
        // iPXE drops the body of any answer that is not 2xx: the reason would never reach the machine's screen.
        await using var server = await PxeKitProcess.StartAsync(LabYaml);

        var ipxe = await RawHttp.SendAsync(server.HttpPort, "GET", target, TimeSpan.FromSeconds(15), "User-Agent: iPXE/1.0.0+git-20190125");
        var curl = await GetAsync(server, target);

        Assert.Equal(200, ipxe.Status);
        Assert.Equal(status.ToString(System.Globalization.CultureInfo.InvariantCulture), ipxe.Header("X-PxeKit-Status"));
        Assert.Contains(shown, Body(ipxe), StringComparison.Ordinal);
        Assert.StartsWith("#!ipxe\necho PxeKit: ", Body(ipxe), StringComparison.Ordinal);
        Assert.Equal(status, curl.Status);
    }

    internal static Task<RawHttpResponse> GetAsync(PxeKitProcess server, string target) =>
        RawHttp.SendAsync(server.HttpPort, "GET", target, TimeSpan.FromSeconds(15));

    internal static string Body(RawHttpResponse response) => System.Text.Encoding.UTF8.GetString(response.Body);

    /// <summary>`pxekit trace MAC --json` from the server's data directory, asked until <paramref name="complete"/>
    /// holds (the server writes traces in the background).</summary>
    internal static async Task<string> TraceAsync(PxeKitProcess server, string mac, Func<string, bool> complete)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var run = await ExternalTool.RunAsync("dotnet",
                [Path.Combine(AppContext.BaseDirectory, "pxekit.dll"), "trace", mac, "--data-dir", Path.Combine(server.Directory, "data"), "--json"],
                TimeSpan.FromSeconds(30), workingDirectory: server.Directory);
            if (run.ExitCode == 0 && complete(run.StandardOutput))
                return run.StandardOutput;
            Assert.True(DateTime.UtcNow < deadline, "the trace never held the expected events\n" + run.Describe() + "\n" + server.Output);
            await Task.Delay(200);
        }
    }

    [GeneratedRegex(" hostname=(\\S*) mac=")]
    private static partial Regex HostnameValue();
}
