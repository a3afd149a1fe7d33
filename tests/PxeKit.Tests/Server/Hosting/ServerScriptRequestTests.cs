using System.Net;
using PxeKit.Server.Boot;
using PxeKit.Server.Hosting;
using PxeKit.Server.Options;

namespace PxeKit.Tests.Server.Hosting;

public class ScriptQueryTests
{
    [Fact]
    public void Parameters_keep_their_order_and_become_one_argument_each()
    {
        Assert.True(ScriptQuery.TryParse("?aa-bb-cc-dd-ee-ff&param1=value1&flag&name=a+b%20c%3D", out var parameters, out _));

        Assert.Equal(["aa-bb-cc-dd-ee-ff", "param1=value1", "flag", "name=a b c="], parameters.Select(p => p.Argument));
        Assert.Null(parameters[0].Name);
        Assert.Equal("param1", parameters[1].Name);
        Assert.Equal("a b c=", parameters[3].Value);
    }

    [Fact]
    public void Shell_metacharacters_are_plain_text()
    {
        Assert.True(ScriptQuery.TryParse("x=$(touch%20/tmp/pwned)&y=a;b&z=%60id%60&w=a|b>c", out var parameters, out _));
        Assert.Equal(["x=$(touch /tmp/pwned)", "y=a;b", "z=`id`", "w=a|b>c"], parameters.Select(p => p.Argument));
    }

    [Fact]
    public void Empty_query_and_empty_parameters_give_nothing()
    {
        Assert.True(ScriptQuery.TryParse("", out var none, out _));
        Assert.Empty(none);
        Assert.True(ScriptQuery.TryParse("?&&a=1&&", out var one, out _));
        Assert.Equal("a=1", Assert.Single(one).Argument);
    }

    [Theory]
    [InlineData("a=%0Aimgfetch", "control character U+000A")]
    [InlineData("a=%00", "control character U+0000")]
    [InlineData("%1b[2J", "control character U+001B")]
    [InlineData("a=%C2%85", "control character U+0085")]
    [InlineData("a=%ff%fe", "not valid UTF-8")]
    [InlineData("a=%zz", "'%' in the query is not followed by two hexadecimal digits")]
    [InlineData("a=%4", "'%' in the query is not followed by two hexadecimal digits")]
    [InlineData("--eval=1", "starts with '-'")]
    [InlineData("-Command", "starts with '-'")]
    [InlineData("a=é", "not percent-encoded")]
    public void Hostile_parameters_are_refused_with_the_reason(string query, string reason)
    {
        Assert.False(ScriptQuery.TryParse(query, out _, out var refusal));
        Assert.Contains(reason, refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void A_parameter_of_1024_bytes_passes_and_one_more_is_refused()
    {
        Assert.True(ScriptQuery.TryParse("a=" + new string('x', 1022), out _, out _));
        Assert.False(ScriptQuery.TryParse("a=" + new string('x', 1023), out _, out var refusal));
        Assert.Contains("longer than 1024 bytes", refusal, StringComparison.Ordinal);
        // Bytes, not characters: 512 two-byte characters are 1024 bytes, with "a=" beyond.
        Assert.False(ScriptQuery.TryParse("a=" + string.Concat(Enumerable.Repeat("%C3%A9", 512)), out _, out _));
    }

    [Fact]
    public void Thirty_two_parameters_pass_and_thirty_three_are_refused()
    {
        Assert.True(ScriptQuery.TryParse(string.Join('&', Enumerable.Range(0, 32).Select(i => $"p{i}=1")), out var parameters, out _));
        Assert.Equal(32, parameters.Count);
        Assert.False(ScriptQuery.TryParse(string.Join('&', Enumerable.Range(0, 33).Select(i => $"p{i}=1")), out _, out var refusal));
        Assert.Equal("more than 32 query parameters", refusal);
    }

    [Theory]
    [InlineData("aa:bb:cc:dd:ee:ff")]
    [InlineData("AA-BB-CC-DD-EE-FF")]
    [InlineData("aabb.ccdd.eeff")]
    [InlineData("AABBCCDDEEFF")]
    public void Macs_are_read_in_any_spelling(string text)
    {
        Assert.True(ScriptQuery.TryParseMac(text, out var mac));
        Assert.Equal("aa:bb:cc:dd:ee:ff", mac);
    }

    [Theory]
    [InlineData("aa:bb:cc:dd:ee")]
    [InlineData("aa:bb-cc:dd:ee:ff")]
    [InlineData("aab:bcc:dde:eff:0:1")]
    [InlineData("gg:bb:cc:dd:ee:ff")]
    [InlineData("aabbccddeeff00")]
    [InlineData("")]
    public void Things_that_are_not_macs_are_not_read_as_macs(string text)
    {
        Assert.False(ScriptQuery.TryParseMac(text, out _));
    }

    [Fact]
    public void The_mac_parameter_wins_over_a_bare_mac()
    {
        Assert.True(ScriptQuery.TryParse("11-22-33-44-55-66&mac=AA:BB:CC:DD:EE:FF", out var parameters, out _));
        Assert.Equal("aa:bb:cc:dd:ee:ff", ScriptQuery.FindMac(parameters));
        Assert.True(ScriptQuery.TryParse("mac=nonsense&x=1&11-22-33-44-55-66", out parameters, out _));
        Assert.Equal("11:22:33:44:55:66", ScriptQuery.FindMac(parameters));
        Assert.True(ScriptQuery.TryParse("x=aa-bb-cc-dd-ee-ff", out parameters, out _));
        Assert.Null(ScriptQuery.FindMac(parameters));
    }
}

public class ServerScriptRequestTests
{
    private static ServerScriptRequest Request(ServerScriptOptions script, string query, string? file = "/srv/boot/iscsi.ps1",
        BootClient? client = null)
    {
        Assert.True(ScriptQuery.TryParse(query, out var parameters, out _));
        return new ServerScriptRequest(script, file, "/iscsi.ps1", query, "GET", parameters, ScriptQuery.FindMac(parameters),
            IPAddress.Parse("::ffff:192.0.2.50"), IPAddress.Parse("192.0.2.1"), 8080, client);
    }

    private static readonly ServerScriptOptions Pwsh = new()
    {
        Extension = ".ps1", Program = "/usr/bin/pwsh", Arguments = ["-NoProfile", "-File", "{file}"],
    };

    [Fact]
    public void File_replaces_its_placeholder_and_parameters_follow_the_configured_arguments()
    {
        var arguments = Request(Pwsh, "aa-bb-cc-dd-ee-ff&param1=value1").BuildArguments();
        Assert.Equal(["-NoProfile", "-File", "/srv/boot/iscsi.ps1", "aa-bb-cc-dd-ee-ff", "param1=value1"], arguments);
    }

    [Fact]
    public void An_extension_entry_without_the_placeholder_gets_the_file_after_its_arguments()
    {
        var php = new ServerScriptOptions { Extension = ".php", Program = "/usr/bin/php", Arguments = ["-n"] };
        Assert.Equal(["-n", "/srv/boot/iscsi.ps1", "param1=value1"], Request(php, "param1=value1").BuildArguments());
    }

    [Fact]
    public void A_path_entry_gets_only_its_arguments_and_the_parameters()
    {
        var provision = new ServerScriptOptions { Path = "/provision", Program = "/usr/local/bin/provision", Arguments = ["--json"] };
        Assert.Equal(["--json", "x=1"], Request(provision, "x=1", file: null).BuildArguments());
    }

    [Fact]
    public void The_environment_is_small_and_says_who_asked()
    {
        var client = new BootClient { Mac = "aa:bb:cc:dd:ee:ff", Architecture = 7, Uuid = "4c4c4544-0000-1000-8000-000000000001", Hostname = "rack1-n3" };
        var environment = Request(Pwsh, "aa-bb-cc-dd-ee-ff&boot-file=x%20y&mac=zz", client: client).BuildEnvironment("/srv/boot", "/var/lib/pxekit/script-home");

        Assert.Equal("aa:bb:cc:dd:ee:ff", environment["PXEKIT_MAC"]);
        Assert.Equal("aa-bb-cc-dd-ee-ff", environment["PXEKIT_MAC_HYPHEN"]);
        Assert.Equal("192.0.2.50", environment["PXEKIT_IP"]);
        Assert.Equal("192.0.2.1", environment["PXEKIT_SERVER"]);
        Assert.Equal("http://192.0.2.1:8080", environment["PXEKIT_HTTP_URL"]);
        Assert.Equal("7", environment["PXEKIT_ARCH"]);
        Assert.Equal("4c4c4544-0000-1000-8000-000000000001", environment["PXEKIT_UUID"]);
        Assert.Equal("rack1-n3", environment["PXEKIT_HOSTNAME"]);
        Assert.Equal("aa-bb-cc-dd-ee-ff&boot-file=x%20y&mac=zz", environment["QUERY_STRING"]);
        Assert.Equal("GET", environment["REQUEST_METHOD"]);
        Assert.Equal("/iscsi.ps1", environment["SCRIPT_NAME"]);
        Assert.Equal("/srv/boot/iscsi.ps1", environment["SCRIPT_FILENAME"]);
        Assert.Equal("x y", environment["PXEKIT_QUERY_BOOT_FILE"]);
        Assert.Equal("zz", environment["PXEKIT_QUERY_MAC"]);
        Assert.Equal("C.UTF-8", environment["LANG"]);
        Assert.Equal("/srv/boot", environment["PXEKIT_ROOT"]);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(ServerScriptRequest.UnixPath, environment["PATH"]);
            Assert.Equal("/var/lib/pxekit/script-home", environment["HOME"]);
            // Nothing of the server's own environment: only what is listed above.
            Assert.Equal(18, environment.Count);
        }
    }

    [Fact]
    public void Unknown_facts_are_left_out_of_the_environment()
    {
        var environment = Request(Pwsh, "x=1").BuildEnvironment("/srv/boot", "/home");
        Assert.False(environment.ContainsKey("PXEKIT_MAC"));
        Assert.False(environment.ContainsKey("PXEKIT_ARCH"));
        Assert.False(environment.ContainsKey("PXEKIT_UUID"));
        Assert.False(environment.ContainsKey("PXEKIT_HOSTNAME"));
    }

    [Fact]
    public void A_client_reported_name_with_control_characters_is_left_out()
    {
        var client = new BootClient { Mac = "aa:bb:cc:dd:ee:ff", Hostname = "evil\nPXEKIT_MAC=x" };
        Assert.False(Request(Pwsh, "x=1", client: client).BuildEnvironment("/r", "/h").ContainsKey("PXEKIT_HOSTNAME"));
    }

    [Theory]
    [InlineData("mac", "MAC")]
    [InlineData("boot-file", "BOOT_FILE")]
    [InlineData("a.b c", "A_B_C")]
    [InlineData("x_1", "X_1")]
    [InlineData("é", "_")]
    public void Parameter_names_become_variable_names(string name, string expected)
    {
        Assert.Equal(expected, ServerScriptRequest.VariableName(name));
    }

    [Fact]
    public void A_parameter_cannot_replace_a_server_variable()
    {
        var environment = Request(Pwsh, "aa-bb-cc-dd-ee-ff").BuildEnvironment("/r", "/h");
        Assert.DoesNotContain(environment.Keys, k => k.StartsWith("PXEKIT_QUERY_", StringComparison.Ordinal));
    }

    [Fact]
    public void The_start_info_runs_the_program_directly_in_the_root_with_only_that_environment()
    {
        var start = Request(Pwsh, "aa-bb-cc-dd-ee-ff").BuildStartInfo("/srv/boot", "/h");
        Assert.False(start.UseShellExecute);
        Assert.Equal("/usr/bin/pwsh", start.FileName);
        Assert.Equal("/srv/boot", start.WorkingDirectory);
        Assert.True(start.RedirectStandardInput);
        Assert.Equal(["-NoProfile", "-File", "/srv/boot/iscsi.ps1", "aa-bb-cc-dd-ee-ff"], start.ArgumentList);
        Assert.Equal("aa:bb:cc:dd:ee:ff", start.Environment["PXEKIT_MAC"]);
        Assert.False(start.Environment.ContainsKey("DOTNET_ROOT"));
        Assert.False(start.Environment.ContainsKey("USER"));
    }
}

public class ServerScriptFailureTests
{
    [Fact]
    public void A_failure_is_an_ipxe_script_that_shows_the_reason_and_fails_the_chain()
    {
        var script = ServerScripts.FailureScript("/iscsi.ps1", "timed out after 10 s; process tree killed");
        Assert.Equal("""
            #!ipxe
            echo PxeKit: server script /iscsi.ps1 failed: timed out after 10 s_ process tree killed
            prompt --timeout 10000 Press any key to continue ||
            exit 1

            """.ReplaceLineEndings("\n"), script);
    }

    [Fact]
    public void Text_in_the_failure_script_cannot_expand_settings_or_chain_commands()
    {
        Assert.Equal("__net0/mac_ __ reboot _ _x_ __", ServerScripts.IpxeText("${net0/mac} || reboot & \"x\" \\#"));
    }
}
