#!/bin/sh
# Proves the VM harness (Infrastructure/NetworkNamespace.cs, NamespacedProcess.cs, QemuMachine.cs) end to end with
# Debian's dnsmasq (DHCP, proxyDHCP, TFTP) and python3's http.server standing in for pxekit. Not run by CI: run it
# by hand, as root, on a machine with the packages below. It compiles the harness sources (not the xunit bits) into a throwaway console
# program (in a temp dir) and performs four boots, one VM at a time:
#
#   full-DHCP  (one namespace: dnsmasq DHCP+TFTP on br0 192.0.2.1, HTTP on 192.0.2.1:8080)  -> BIOS, then UEFI
#   proxy      (namespace + peer "host" 192.0.2.2 running a plain DHCP server; proxyDHCP+TFTP+HTTP on 192.0.2.1)
#                                                                                             -> BIOS, then UEFI
#
# Every boot: DHCP -> (UEFI: TFTP ipxe.efi -> DHCP again from iPXE) -> HTTP boot.ipxe -> HTTP vmlinuz, initrd.gz ->
# the initrd prints "PXEKIT-BOOT-OK <token>" on ttyS0 and powers off. Prints timings and the QEMU command lines.
#
#   prove-harness-with-dnsmasq.sh [bios|uefi|both] [full|proxy|both]      (defaults: both both)
#
# Packages: qemu-system-x86 ovmf ipxe ipxe-qemu dnsmasq busybox-static iproute2 python3, and the .NET SDK.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
firmware=${1:-both}
modes=${2:-both}

[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces, taps)" >&2; exit 1; }
for p in dnsmasq:dnsmasq qemu-system-x86_64:qemu-system-x86 ip:iproute2 dotnet:dotnet-sdk; do
    command -v "${p%%:*}" >/dev/null 2>&1 || { echo "'${p%%:*}' missing; install '${p#*:}'" >&2; exit 1; }
done
[ -x /usr/bin/python3 ] || { echo "/usr/bin/python3 missing; install Debian's 'python3'" >&2; exit 1; }

assets=$("$here/make-boot-assets.sh")

proj=$(mktemp -d /tmp/pxekit-prove-XXXXXX)
trap 'rm -rf "$proj"' EXIT
cat > "$proj/Prove.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <InvariantGlobalization>true</InvariantGlobalization>
  </PropertyGroup>
  <ItemGroup>
    <Compile Include="$here/../Infrastructure/ExternalTool.cs" />
    <Compile Include="$here/../Infrastructure/NetworkNamespace.cs" />
    <Compile Include="$here/../Infrastructure/NamespacedProcess.cs" />
    <Compile Include="$here/../Infrastructure/QemuMachine.cs" />
  </ItemGroup>
</Project>
EOF
cat > "$proj/Program.cs" <<'EOF'
using System.Diagnostics;
using PxeKit.EndToEnd.Infrastructure;

var assets = args[0];
var firmwares = args[1] switch { "bios" => new[] { Firmware.Bios }, "uefi" => [Firmware.Uefi], _ => [Firmware.Bios, Firmware.Uefi] };
var modes = args[2] switch { "full" => new[] { "full" }, "proxy" => ["proxy"], _ => ["full", "proxy"] };
var bootTimeout = TimeSpan.FromSeconds(240);
var summary = new List<string>();
var failed = false;

foreach (var mode in modes)
{
    var work = Directory.CreateTempSubdirectory("pxekit-prove-");
    File.SetUnixFileMode(work.FullName, (UnixFileMode)0b111_101_101);
    var http = Path.Combine(work.FullName, "http");
    Directory.CreateDirectory(http);
    File.CreateSymbolicLink(Path.Combine(http, "vmlinuz"), Path.Combine(assets, "vmlinuz"));
    File.CreateSymbolicLink(Path.Combine(http, "initrd.gz"), Path.Combine(assets, "initrd.gz"));
    try
    {
        await using var ns = await NetworkNamespace.CreateAsync("192.0.2.1/24");
        Console.WriteLine($"== {mode}: namespace {ns.Name}, bridge {ns.AddressWithPrefix}");
        NamespacedProcess? plain = null;
        var chain = """
            dhcp-userclass=set:ipxe,iPXE
            dhcp-match=set:efi64,option:client-arch,7
            dhcp-match=set:efi64,option:client-arch,9
            """;
        string serverConf;
        if (mode == "full")
        {
            serverConf = $"""
                dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h
                {chain}
                dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe
                dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi
                dhcp-boot=tag:ipxe,http://192.0.2.1:8080/boot.ipxe
                """;
        }
        else
        {
            var peer = await ns.AttachPeerAsync("192.0.2.2/24");
            Console.WriteLine($"   plain DHCP server host: namespace {peer.Name}, {peer.AddressWithPrefix}");
            var plainConf = Path.Combine(work.FullName, "plain.conf");
            await File.WriteAllTextAsync(plainConf, $"""
                port=0
                interface={NetworkNamespace.PeerInterface}
                bind-interfaces
                dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h
                dhcp-leasefile={work.FullName}/plain.leases
                log-dhcp
                """);
            plain = peer.StartProcess("dnsmasq", ["--keep-in-foreground", $"--conf-file={plainConf}", "--log-facility=-"]);
            serverConf = $"""
                dhcp-range=192.0.2.0,proxy,255.255.255.0
                {chain}
                pxe-service=tag:!ipxe,x86PC,"chain iPXE",undionly.kpxe
                pxe-service=tag:!ipxe,X86-64_EFI,"chain iPXE",ipxe.efi
                pxe-service=tag:ipxe,x86PC,"iPXE script",http://192.0.2.1:8080/boot.ipxe
                pxe-service=tag:ipxe,X86-64_EFI,"iPXE script",http://192.0.2.1:8080/boot.ipxe
                """;
        }
        var conf = Path.Combine(work.FullName, "dnsmasq.conf");
        await File.WriteAllTextAsync(conf, $"""
            port=0
            interface={NetworkNamespace.BridgeInterface}
            bind-interfaces
            dhcp-leasefile={work.FullName}/dnsmasq.leases
            enable-tftp
            tftp-root={assets}
            log-dhcp
            {serverConf}
            """);
        var dnsmasq = ns.StartProcess("dnsmasq", ["--keep-in-foreground", $"--conf-file={conf}", "--log-facility=-"]);
        var web = ns.StartProcess("/usr/bin/python3", ["-u", "-m", "http.server", "8080", "--bind", "192.0.2.1", "--directory", http]);
        var probe = Stopwatch.StartNew();
        while ((await ns.RunAsync("/usr/bin/python3", ["-c", "import socket; socket.create_connection(('192.0.2.1', 8080), 1)"], TimeSpan.FromSeconds(5))).ExitCode != 0)
        {
            if (probe.Elapsed > TimeSpan.FromSeconds(15))
                throw new TimeoutException($"HTTP server did not listen: {web.Output}");
            await Task.Delay(200);
        }
        foreach (var server in new[] { dnsmasq, plain, web })
            if (server is { HasExited: true })
                throw new InvalidOperationException($"{server.Description} exited: {server.Output}");

        foreach (var firmware in firmwares)
        {
            var token = $"{mode}-{firmware}-{Guid.NewGuid():N}"[..24].ToLowerInvariant();
            var initrdArg = "initrd=initrd.gz"; // needed under UEFI (EFI stub), harmless under BIOS
            await File.WriteAllTextAsync(Path.Combine(http, "boot.ipxe"), $"""
                #!ipxe
                echo PXEKIT boot.ipxe reached on ${"{"}platform{"}"}
                kernel http://192.0.2.1:8080/vmlinuz {initrdArg} console=ttyS0 quiet panic=-1 pxekit.token={token}
                initrd http://192.0.2.1:8080/initrd.gz
                boot

                """);
            var dnsmasqMark = dnsmasq.Output.Length;
            var webMark = web.Output.Length;
            var interfacesBefore = await ns.ListInterfacesAsync();
            var vm = await QemuMachine.StartAsync(ns, firmware);
            var result = "";
            try
            {
                Console.WriteLine($"-- {mode}/{firmware}: {string.Join(' ', vm.CommandLine)}");
                var elapsed = await vm.WaitForSerialAsync($"PXEKIT-BOOT-OK {token}", bootTimeout);
                var exitCode = await vm.WaitForExitAsync(TimeSpan.FromSeconds(60));
                var total = DateTimeOffset.UtcNow - vm.StartedAt;
                result = $"{mode,-5} {firmware,-4}: marker after {elapsed.TotalSeconds:0.0} s, QEMU exited {exitCode} after {total.TotalSeconds:0.0} s";
            }
            catch (Exception e)
            {
                failed = true;
                result = $"{mode,-5} {firmware,-4}: FAILED {e.Message}";
            }
            finally
            {
                await vm.DisposeAsync();
            }
            Console.WriteLine(result);
            summary.Add(result);
            Console.WriteLine("   dnsmasq (this boot):");
            foreach (var line in dnsmasq.Output[dnsmasqMark..].Split('\n'))
                if (line.Contains("DHCPACK") || line.Contains("dnsmasq-tftp") || line.Contains("bootfile") || line.Contains("PXE(") || line.Contains("user class"))
                    Console.WriteLine($"     {line.Trim()}");
            Console.WriteLine("   http (this boot):");
            foreach (var line in web.Output[webMark..].Split('\n', StringSplitOptions.RemoveEmptyEntries))
                Console.WriteLine($"     {line.Trim()}");
            var interfacesAfter = await ns.ListInterfacesAsync();
            var leftover = interfacesAfter.Except(interfacesBefore).ToList();
            Console.WriteLine($"   interfaces after dispose: {string.Join(',', interfacesAfter)}{(leftover.Count > 0 ? $"  LEFTOVER: {string.Join(',', leftover)}" : "")}");
            if (leftover.Count > 0 || !vm.HasExited)
                failed = true;
        }
        if (plain is not null)
            Console.WriteLine($"   plain DHCP server saw: {plain.Output.Split('\n').Count(l => l.Contains("DHCPACK"))} DHCPACKs");
    }
    catch (Exception e)
    {
        failed = true;
        Console.WriteLine($"{mode}: FAILED {e}");
        summary.Add($"{mode}: FAILED {e.Message}");
    }
    finally
    {
        work.Delete(recursive: true);
    }
    var remaining = await NetworkNamespace.ListNamespacesAsync();
    if (remaining.Any(n => n.StartsWith($"pxekit-e2e-{Environment.ProcessId}-", StringComparison.Ordinal)))
    {
        failed = true;
        Console.WriteLine($"LEFTOVER namespaces: {string.Join(',', remaining)}");
    }
}

Console.WriteLine();
Console.WriteLine("== summary");
foreach (var line in summary)
    Console.WriteLine(line);
return failed ? 1 : 0;
EOF
cd "$proj"
dotnet build -nologo -v q -o "$proj/out" >"$proj/build.log" 2>&1 || { cat "$proj/build.log" >&2; exit 1; }
exec_status=0
dotnet "$proj/out/Prove.dll" "$assets" "$firmware" "$modes" || exec_status=$?
exit $exec_status
