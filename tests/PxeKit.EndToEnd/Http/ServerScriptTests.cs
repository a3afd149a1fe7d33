using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Http;

/// <summary>
/// One pxekit process whose root holds small shell scripts, run through <c>/bin/sh</c> by the `scripts:` entries
/// below; each script writes what the test needs to see (its PID, its arguments, its environment) beside the root.
/// </summary>
public sealed class ServerScriptFixture : IAsyncLifetime
{
    /// <summary>Set in the test process, so inherited by pxekit: it must never reach a script.</summary>
    public const string ServerOnlyVariable = "PXEKIT_E2E_SERVER_ONLY";

    /// <summary>In the source of every script: a script's source must never come back.</summary>
    public const string SourceSecret = "SECRET-IN-THE-SCRIPT-SOURCE";

    public const int MaxOutput = 64 * 1024;

    public static readonly string Yaml = $"""
        scripts:
          - extension: .sh
            program: /bin/sh
            args: ["{"{file}"}"]
            timeout: 20s
            max-output: {MaxOutput}
          - extension: .slow
            program: /bin/sh
            args: ["{"{file}"}"]
            timeout: 1s
          - extension: .one
            program: /bin/sh
            args: ["{"{file}"}"]
            timeout: 60s
            max-concurrent: 1
          - path: /provision
            program: /bin/sh
            args: ["-c", "echo '#!ipxe'; echo \"echo provision $PXEKIT_MAC_HYPHEN $*\"", "provision"]
        """;

    /// <summary>The seed's iscsi.ps1 in sh: the target is named after the hyphenated MAC given as <c>$1</c>.</summary>
    public const string IscsiScript = $$"""
        # {{SourceSecret}}: a provisioning script may hold the iSCSI target's password
        echo '#!ipxe'
        echo 'clear net0.dhcp/gateway:ipv4'
        echo 'set gateway'
        echo 'set initiator-iqn iqn.2006-11.1'
        echo 'set keep-san 1'
        echo 'set target ${next-server}'
        TargetName="$1"
        echo "echo TargetName: $TargetName"
        echo "echo vhdpath: /srv/images/$TargetName.vhd"
        echo "echo iscsi target configured, enjoy !"
        echo 'sanboot --keep iscsi:${target}:tcp:3260:0:'"$TargetName"
        """;

    public PxeKitProcess Server { get; private set; } = null!;

    /// <summary>Where scripts leave their marks: the directory above the root (their working directory's parent).</summary>
    public string Outside => Server.Directory;

    public async Task InitializeAsync()
    {
        Environment.SetEnvironmentVariable(ServerOnlyVariable, "must-not-leak");
        Server = await PxeKitProcess.StartAsync(Yaml, root =>
        {
            void Write(string name, string text) => File.WriteAllText(Path.Combine(root, name), $"# {SourceSecret}\n{text}\n");
            File.WriteAllText(Path.Combine(root, "iscsi.sh"), IscsiScript + "\n");
            Write("args.sh", """
                echo '#!ipxe'
                for a in "$@"; do printf 'arg=[%s]\n' "$a"; done
                env
                """);
            Write("fail.sh", """
                echo 'partial output that must not be served'
                echo 'first stderr line' >&2
                echo 'cannot create target iqn.2006-11.1:aa: access denied' >&2
                exit 3
                """);
            Write("big.sh", "echo $$ > ../big.pid; head -c 1000000 /dev/zero | tr '\\0' x; sleep 30");
            Write("sleepy.slow", "echo $$ > ../sleepy.pid; sleep 120 & echo $! > ../sleepy-child.pid; wait");
            Write("hold.one", "echo $$ > ../hold.pid; while [ ! -e ../release ]; do sleep 0.1; done; echo '#!ipxe'; echo 'echo held'");
            Write("gone.one", "echo $$ > ../gone.pid; sleep 120 & echo $! > ../gone-child.pid; wait");
            File.CreateSymbolicLink(Path.Combine(root, "iscsi.txt"), Path.Combine(root, "iscsi.sh"));
            // What editors leave beside a script they saved: its source under names that do not end in .sh.
            Write("iscsi.sh~", IscsiScript);
            Write("iscsi.sh.bak", IscsiScript);
            Write(".iscsi.sh.swp", IscsiScript);
        });
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// Server-side scripts through the real <c>pxekit serve</c>, with curl and raw HTTP: the seed's per-client iSCSI
/// script, arguments and environment, hostile queries, and every failure (time-out, output cap, exit code,
/// concurrency cap) answered with an iPXE script while the program's processes are gone.
/// </summary>
public sealed class ServerScriptTests(ServerScriptFixture fixture) : IClassFixture<ServerScriptFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private PxeKitProcess Server => fixture.Server;

    private Task<RawHttpResponse> GetAsync(string target, params string[] headers) =>
        RawHttp.SendAsync(Server.HttpPort, "GET", target, Wait, headers);

    private static string Body(RawHttpResponse response) => Encoding.UTF8.GetString(response.Body);

    [Fact]
    public async Task The_seeds_iscsi_script_names_the_target_after_the_hyphenated_mac()
    {
        // What iPXE fetches for `http://${next-server}/iscsi.sh?${mac:hexhyp}` (the seed's @mac).
        var curl = ExternalTool.Require("curl", "curl");
        var run = await ExternalTool.RunAsync(curl, ["-sS", "-w", "\n%{http_code} %{content_type}", $"http://127.0.0.1:{Server.HttpPort}/iscsi.sh?aa-bb-cc-dd-ee-ff"], Wait);

        Assert.True(run.ExitCode == 0, run.Describe());
        var expected = """
            #!ipxe
            clear net0.dhcp/gateway:ipv4
            set gateway
            set initiator-iqn iqn.2006-11.1
            set keep-san 1
            set target ${next-server}
            echo TargetName: aa-bb-cc-dd-ee-ff
            echo vhdpath: /srv/images/aa-bb-cc-dd-ee-ff.vhd
            echo iscsi target configured, enjoy !
            sanboot --keep iscsi:${target}:tcp:3260:0:aa-bb-cc-dd-ee-ff

            200 text/plain; charset=utf-8
            """.ReplaceLineEndings("\n");
        Assert.Equal(expected, run.StandardOutput);
        Assert.DoesNotContain(ServerScriptFixture.SourceSecret, run.StandardOutput, StringComparison.Ordinal);
        Assert.True(await Server.WaitForOutputAsync("Script 127.0.0.1 aa:bb:cc:dd:ee:ff /iscsi.sh?aa-bb-cc-dd-ee-ff: /bin/sh exited 0", Wait), Server.Output);
    }

    [Fact]
    public async Task Parameters_are_arguments_in_order_and_the_environment_says_who_asked()
    {
        var response = await GetAsync("/args.sh?52-54-00-12-34-56&param1=value1&boot-file=a+b%20c");

        Assert.True(response.Status == 200, response.Describe());
        var lines = Body(response).Split('\n');
        Assert.Equal(["arg=[52-54-00-12-34-56]", "arg=[param1=value1]", "arg=[boot-file=a b c]"], lines.Where(l => l.StartsWith("arg=", StringComparison.Ordinal)));
        var environment = lines.Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith("arg=", StringComparison.Ordinal))
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("52:54:00:12:34:56", environment["PXEKIT_MAC"]);
        Assert.Equal("52-54-00-12-34-56", environment["PXEKIT_MAC_HYPHEN"]);
        Assert.Equal("127.0.0.1", environment["PXEKIT_IP"]);
        Assert.Equal("127.0.0.1", environment["PXEKIT_SERVER"]);
        Assert.Equal($"http://127.0.0.1:{Server.HttpPort}", environment["PXEKIT_HTTP_URL"]);
        Assert.Equal("52-54-00-12-34-56&param1=value1&boot-file=a+b%20c", environment["QUERY_STRING"]);
        Assert.Equal("GET", environment["REQUEST_METHOD"]);
        Assert.Equal("/args.sh", environment["SCRIPT_NAME"]);
        Assert.Equal("value1", environment["PXEKIT_QUERY_PARAM1"]);
        Assert.Equal("a b c", environment["PXEKIT_QUERY_BOOT_FILE"]);
        Assert.Equal("C.UTF-8", environment["LANG"]);
        Assert.Equal("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", environment["PATH"]);
        Assert.Equal(Path.Combine(Server.Directory, "data", "script-home"), environment["HOME"]);
        Assert.Equal(Server.Root, environment["PWD"]); // run in the boot root
        Assert.False(environment.ContainsKey(ServerScriptFixture.ServerOnlyVariable), "the server's own environment reached the script");
    }

    [Fact]
    public async Task Shell_metacharacters_in_the_query_reach_the_program_as_inert_text()
    {
        var marks = Enumerable.Range(0, 4).Select(i => Path.Combine(fixture.Outside, $"pwned-{i}")).ToArray();
        var response = await GetAsync(
            $"/args.sh?x=$(touch%20{marks[0]})&y=a;touch%20{marks[1]}&z=%60touch%20{marks[2]}%60&w=%7C%7C%20touch%20{marks[3]}%20%26%26%20true");

        Assert.True(response.Status == 200, response.Describe());
        var body = Body(response);
        Assert.Contains($"arg=[x=$(touch {marks[0]})]", body, StringComparison.Ordinal);
        Assert.Contains($"arg=[y=a;touch {marks[1]}]", body, StringComparison.Ordinal);
        Assert.Contains($"arg=[z=`touch {marks[2]}`]", body, StringComparison.Ordinal);
        Assert.Contains($"arg=[w=|| touch {marks[3]} && true]", body, StringComparison.Ordinal);
        Assert.All(marks, mark => Assert.False(File.Exists(mark), $"{mark} was created: a query was executed"));
    }

    [Theory]
    [InlineData("/args.sh?a=%0Aexit", "control character U+000A")]
    [InlineData("/args.sh?a=%ff", "not valid UTF-8")]
    [InlineData("/args.sh?--help", "starts with '-'")]
    public async Task Hostile_queries_are_refused_with_400_and_logged(string target, string reason)
    {
        var response = await GetAsync(target);

        Assert.Equal(400, response.Status);
        Assert.StartsWith("#!ipxe\n", Body(response), StringComparison.Ordinal);
        Assert.DoesNotContain("arg=", Body(response), StringComparison.Ordinal);
        Assert.True(await Server.WaitForOutputAsync(reason, Wait), Server.Output);
    }

    [Fact]
    public async Task More_than_32_parameters_are_refused()
    {
        var response = await GetAsync("/args.sh?" + string.Join('&', Enumerable.Range(0, 33).Select(i => $"p{i}=1")));

        Assert.Equal(400, response.Status);
        Assert.True(await Server.WaitForOutputAsync("more than 32 query parameters", Wait), Server.Output);
    }

    [Fact]
    public async Task A_script_that_runs_too_long_gets_504_with_an_ipxe_echo_and_its_processes_are_gone()
    {
        var response = await GetAsync("/sleepy.slow?aa-bb-cc-dd-ee-ff");

        Assert.Equal(504, response.Status);
        Assert.Equal("""
            #!ipxe
            echo PxeKit: server script /sleepy.slow failed: timed out after 1 s_ process tree killed
            prompt --timeout 10000 Press any key to continue ||
            exit 1

            """.ReplaceLineEndings("\n"), Body(response));
        Assert.True(await Server.WaitForOutputAsync("/sleepy.slow?aa-bb-cc-dd-ee-ff failed: timed out after 1 s; process tree killed", Wait), Server.Output);
        await AssertNotRunningAsync("sleepy.pid");
        await AssertNotRunningAsync("sleepy-child.pid");
    }

    [Fact]
    public async Task Output_beyond_max_output_is_a_failure_and_the_program_is_killed()
    {
        var response = await GetAsync("/big.sh");

        Assert.Equal(500, response.Status);
        Assert.Contains($"failed: wrote more than {ServerScriptFixture.MaxOutput} bytes to standard output (max-output)", Body(response), StringComparison.Ordinal);
        Assert.DoesNotContain("xxxx", Body(response), StringComparison.Ordinal);
        await AssertNotRunningAsync("big.pid");
    }

    [Fact]
    public async Task A_non_zero_exit_is_a_500_and_the_log_shows_the_end_of_standard_error()
    {
        var response = await GetAsync("/fail.sh?aa-bb-cc-dd-ee-ff");

        Assert.Equal(500, response.Status);
        Assert.Contains("echo PxeKit: server script /fail.sh failed: exited with code 3\n", Body(response), StringComparison.Ordinal);
        Assert.DoesNotContain("partial output", Body(response), StringComparison.Ordinal);
        Assert.DoesNotContain("access denied", Body(response), StringComparison.Ordinal); // stderr is for the log only
        Assert.True(await Server.WaitForOutputAsync(
            "/fail.sh?aa-bb-cc-dd-ee-ff failed: exited with code 3. Program: /bin/sh " + Path.Combine(Server.Root, "fail.sh")
            + " aa-bb-cc-dd-ee-ff; its standard error ends: first stderr line | cannot create target iqn.2006-11.1:aa: access denied", Wait), Server.Output);
    }

    [Fact]
    public async Task Ipxe_gets_the_failure_script_with_200_so_that_it_runs_and_shows_the_reason()
    {
        // iPXE drops the body of a non-2xx answer: only a 200 puts the reason on the booting machine's screen.
        var response = await GetAsync("/fail.sh", "User-Agent: iPXE/1.21.1+ (g4bd064de)");

        Assert.Equal(200, response.Status);
        Assert.StartsWith("#!ipxe\necho PxeKit: server script /fail.sh failed: exited with code 3\n", Body(response), StringComparison.Ordinal);
        Assert.EndsWith("exit 1\n", Body(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Beyond_max_concurrent_the_answer_is_503_with_retry_after()
    {
        var holding = GetAsync("/hold.one");
        await WaitForFileAsync("hold.pid");

        var busy = await GetAsync("/hold.one");
        var busyIpxe = await GetAsync("/hold.one", "User-Agent: iPXE/1.21.1");

        Assert.Equal(503, busy.Status);
        Assert.Equal("2", busy.Header("Retry-After"));
        Assert.Contains("failed: busy (1 runs at once)_ retrying in 2 s", Body(busy), StringComparison.Ordinal);
        Assert.Equal(503, busyIpxe.Status); // iPXE retries a 503 with Retry-After by itself
        Assert.True(await Server.WaitForOutputAsync("runs of *.one already going (max-concurrent); answered 503", Wait), Server.Output);

        await File.WriteAllTextAsync(Path.Combine(fixture.Outside, "release"), "");
        var held = await holding;
        Assert.True(held.Status == 200, held.Describe());
        Assert.Equal("#!ipxe\necho held\n", Body(held));
    }

    [Fact]
    public async Task A_client_that_disconnects_stops_the_program()
    {
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, Server.HttpPort);
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes("GET /gone.one HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
            await WaitForFileAsync("gone-child.pid");
        }

        Assert.True(await Server.WaitForOutputAsync("/gone.one: the client disconnected after", Wait), Server.Output);
        await AssertNotRunningAsync("gone.pid");
        await AssertNotRunningAsync("gone-child.pid");
    }

    [Fact]
    public async Task A_path_entry_runs_its_program_without_a_file_in_the_root()
    {
        var response = await GetAsync("/provision?mac=52:54:00:AB:CD:EF&x=1");

        Assert.True(response.Status == 200, response.Describe());
        Assert.Equal("#!ipxe\necho provision 52-54-00-ab-cd-ef mac=52:54:00:AB:CD:EF x=1\n", Body(response));
    }

    [Theory]
    [InlineData("/iscsi.sh")]
    [InlineData("/ISCSI.SH")]
    [InlineData("/iscsi.txt")] // a link to the script, inside the root
    [InlineData("/./sub/../iscsi.sh")]
    public async Task A_scripts_source_is_never_served_over_http(string target)
    {
        var response = await GetAsync(target);

        Assert.DoesNotContain(ServerScriptFixture.SourceSecret, response.WireText, StringComparison.Ordinal);
        Assert.DoesNotContain("TargetName=\"$1\"", response.WireText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/iscsi.sh~")]
    [InlineData("/iscsi.sh.bak")]
    [InlineData("/.iscsi.sh.swp")]
    public async Task An_editors_copy_of_a_script_is_refused_not_served(string target)
    {
        var response = await GetAsync(target);

        Assert.Equal(403, response.Status);
        Assert.DoesNotContain(ServerScriptFixture.SourceSecret, response.WireText, StringComparison.Ordinal);
        Assert.True(await Server.WaitForOutputAsync("is a copy of a server-side script (an editor's backup)", Wait), Server.Output);

        using var client = new RawTftpClient();
        client.Send(Server.TftpEndPoint, RawTftpClient.Rrq(target.TrimStart('/')));
        var answer = await client.ReceiveAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(answer);
        Assert.Equal(5, RawTftpClient.Opcode(answer.Value.Data)); // ERROR, never DATA
    }

    [Fact]
    public async Task Head_runs_the_script_and_sends_its_length_without_a_body()
    {
        var get = await GetAsync("/iscsi.sh?aa-bb-cc-dd-ee-ff");
        var head = await RawHttp.SendAsync(Server.HttpPort, "HEAD", "/iscsi.sh?aa-bb-cc-dd-ee-ff", Wait);

        Assert.Equal(200, head.Status);
        Assert.Equal(get.Body.Length.ToString(CultureInfo.InvariantCulture), head.Header("Content-Length"));
        Assert.Empty(head.Body);
    }

    [Fact]
    public async Task A_missing_script_is_a_404_like_any_file()
    {
        var response = await GetAsync("/missing.sh?aa-bb-cc-dd-ee-ff");

        Assert.Equal(404, response.Status);
    }

    [Fact]
    public async Task A_scripts_source_is_refused_over_tftp()
    {
        using var client = new RawTftpClient();
        client.Send(Server.TftpEndPoint, RawTftpClient.Rrq("iscsi.sh"));
        var answer = await client.ReceiveAsync(TimeSpan.FromSeconds(10));

        Assert.NotNull(answer);
        Assert.Equal(5, RawTftpClient.Opcode(answer.Value.Data)); // ERROR
        Assert.Equal(2, RawTftpClient.Word(answer.Value.Data)); // access violation
        Assert.DoesNotContain(ServerScriptFixture.SourceSecret, Encoding.Latin1.GetString(answer.Value.Data), StringComparison.Ordinal);
        Assert.True(await Server.WaitForOutputAsync("'iscsi.sh' is a server-side script (*.sh); it runs over HTTP only", Wait), Server.Output);
    }

    private async Task WaitForFileAsync(string name)
    {
        var path = Path.Combine(fixture.Outside, name);
        for (var deadline = DateTime.UtcNow + Wait; DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            if (File.Exists(path) && (await File.ReadAllTextAsync(path)).EndsWith('\n'))
                return;
        }
        Assert.Fail($"{name} was not written within {Wait.TotalSeconds} s:\n{Server.Output}");
    }

    /// <summary>Waits until the process whose PID a script wrote is no longer running (gone, or a zombie of a parent
    /// that is not pxekit: an orphan belongs to init).</summary>
    private async Task AssertNotRunningAsync(string pidFile)
    {
        await WaitForFileAsync(pidFile);
        var pid = int.Parse((await File.ReadAllTextAsync(Path.Combine(fixture.Outside, pidFile))).Trim(), CultureInfo.InvariantCulture);
        string? state = null;
        for (var deadline = DateTime.UtcNow + Wait; DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            state = ProcessState(pid);
            if (state is null or "Z")
                return;
        }
        Assert.Fail($"process {pid} ({pidFile}) is still running (state {state}) after {Wait.TotalSeconds} s");
    }

    /// <summary>The state letter of /proc/PID/stat ("S", "R", "Z"...), or null when there is no such process.</summary>
    private static string? ProcessState(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return null;
        }
    }
}

/// <summary>A Python script, as Tiny PXE Server's <c>python.exe file.py param1=value1</c> ran them.</summary>
public sealed class PythonServerScriptTests
{
    [Fact]
    public async Task A_python_script_gets_its_parameters_as_arguments_and_the_mac_in_its_environment()
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python))
            throw new InvalidOperationException($"'{python}' is not installed; install Debian's 'python3-minimal' (`.ci/run` does this).");
        await using var server = await PxeKitProcess.StartAsync($"""
            scripts:
              - extension: .py
                program: {python}
                args: []
            """, root => File.WriteAllText(Path.Combine(root, "boot.py"), """
            import os, sys
            print("#!ipxe")
            print("echo python " + " ".join(sys.argv[1:]))
            print("echo mac " + os.environ.get("PXEKIT_MAC", "unknown"))
            """));

        var response = await RawHttp.SendAsync(server.HttpPort, "GET", "/boot.py?param1=value1&mac=52-54-00-12-34-56");

        Assert.True(response.Status == 200, response.Describe());
        Assert.Equal("#!ipxe\necho python param1=value1 mac=52-54-00-12-34-56\necho mac 52:54:00:12:34:56\n", Encoding.UTF8.GetString(response.Body));
    }
}
