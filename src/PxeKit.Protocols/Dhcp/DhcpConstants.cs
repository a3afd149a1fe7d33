namespace PxeKit.Protocols.Dhcp;

/// <summary>BOOTP op field, RFC 951 / RFC 2131 §2.</summary>
public enum DhcpOp : byte
{
    BootRequest = 1,
    BootReply = 2,
}

/// <summary>DHCP message type, option 53 (RFC 2132 §9.6).</summary>
public enum DhcpMessageType : byte
{
    Discover = 1,
    Offer = 2,
    Request = 3,
    Decline = 4,
    Ack = 5,
    Nak = 6,
    Release = 7,
    Inform = 8,
}

/// <summary>Option codes we read or write, RFC 2132 unless noted.</summary>
public enum DhcpOptionCode : byte
{
    Pad = 0,                          // RFC 2132 §3.1
    SubnetMask = 1,                   // §3.3
    Router = 3,                       // §3.5
    DomainNameServer = 6,             // §3.8
    HostName = 12,                    // §3.14
    DomainName = 15,                  // §3.17
    NtpServers = 42,                  // §8.3
    VendorSpecific = 43,              // §8.4; PXE 2.1 §2.4 encapsulates its options here
    RequestedIpAddress = 50,          // §9.1
    LeaseTime = 51,                   // §9.2
    OptionOverload = 52,              // §9.3
    MessageType = 53,                 // §9.6
    ServerIdentifier = 54,            // §9.7
    ParameterRequestList = 55,        // §9.8
    Message = 56,                     // §9.9
    MaxMessageSize = 57,              // §9.10
    RenewalTime = 58,                 // §9.11 (T1)
    RebindingTime = 59,               // §9.12 (T2)
    VendorClassIdentifier = 60,       // §9.13; "PXEClient…" / "HTTPClient…"
    ClientIdentifier = 61,            // §9.14
    TftpServerName = 66,              // §9.4
    BootFileName = 67,                // §9.5
    UserClass = 77,                   // RFC 3004
    RelayAgentInformation = 82,       // RFC 3046
    ClientSystemArchitecture = 93,    // RFC 4578 §2.1
    ClientNetworkInterface = 94,      // RFC 4578 §2.2 (UNDI version)
    ClientMachineIdentifier = 97,     // RFC 4578 §2.3 (UUID/GUID)
    IpxeEncapsulated = 175,           // iPXE's own option space (ipxe.org/cfg); its presence means "this is iPXE"
    WindowsBcdPath = 252,             // WDS / Tiny PXE Server: path of the BCD store for bootmgr
    End = 255,                        // RFC 2132 §3.2
}

/// <summary>PXE 2.1 §2.4 vendor options inside option 43.</summary>
public static class PxeVendorOption
{
    /// <summary>PXE_DISCOVERY_CONTROL (sub-option 6).</summary>
    public const byte DiscoveryControl = 6;

    /// <summary>Bit 3: "download the boot file named in this offer" — the client neither waits for a boot menu nor
    /// multicasts a boot-server discovery (PXE 2.1 table 2-2). pixiecore and dnsmasq send 8 for the same reason.</summary>
    public const byte DiscoveryUseBootFile = 0x08;
}

/// <summary>Fixed offsets of the BOOTP header (RFC 2131 §2, figure 1), in field order.</summary>
public static class DhcpOffsets
{
    public const int Op = 0x00;
    public const int HardwareType = 0x01;
    public const int HardwareLength = 0x02;
    public const int Hops = 0x03;
    public const int TransactionId = 0x04;
    public const int Seconds = 0x08;
    public const int Flags = 0x0A;
    public const int ClientAddress = 0x0C;   // ciaddr
    public const int YourAddress = 0x10;     // yiaddr
    public const int ServerAddress = 0x14;   // siaddr (next-server)
    public const int RelayAddress = 0x18;    // giaddr
    public const int ClientHardwareAddress = 0x1C; // chaddr, 16 bytes
    public const int ServerName = 0x2C;      // sname, 64 bytes
    public const int File = 0x6C;            // file, 128 bytes
    public const int MagicCookie = 0xEC;
    public const int Options = 0xF0;
}

/// <summary>Sizes fixed by the RFCs.</summary>
public static class DhcpLimits
{
    public const int ChaddrLength = 16;
    public const int ServerNameLength = 64;
    public const int FileLength = 128;

    /// <summary>Header plus the magic cookie: anything shorter is not DHCP (hostile-inputs D1).</summary>
    public const int MinPacketLength = DhcpOffsets.Options;

    /// <summary>RFC 2131 §2: every client must accept 576-byte IP datagrams, i.e. 548 bytes of DHCP message.</summary>
    public const int MinMaxMessageSize = 576;

    /// <summary>IP (20) + UDP (8) headers that option 57's value includes (RFC 2132 §9.10).</summary>
    public const int IpUdpOverhead = 28;

    /// <summary>A reply never exceeds one Ethernet frame: PXE ROMs cannot reassemble fragments.</summary>
    public const int MaxReplyLength = 1500 - IpUdpOverhead;

    /// <summary>Receive buffer: the largest datagram a 1500-byte MTU carries, with room to spare for jumbo junk
    /// that is then refused rather than truncated silently.</summary>
    public const int ReceiveBufferLength = 4096;

    /// <summary>RFC 2131 §3: 99.130.83.99.</summary>
    public const uint MagicCookie = 0x63825363;

    /// <summary>RFC 2131 §2: the BROADCAST bit of flags.</summary>
    public const ushort BroadcastFlag = 0x8000;

    public const int ServerPort = 67;
    public const int ClientPort = 68;

    /// <summary>PXE 2.1 §2.2.5: the boot-server (proxyDHCP) port.</summary>
    public const int PxeBootServerPort = 4011;
}

/// <summary>RFC 4578 §2.1 / IANA "Processor Architecture Types".</summary>
public static class ClientArchitecture
{
    public const ushort BiosX86 = 0;
    public const ushort EfiIa32 = 6;
    public const ushort EfiX64 = 7;
    public const ushort EfiBc = 9;        // EFI byte code; firmware in the field sends 9 for x64 (RFC 4578 errata 4624)
    public const ushort EfiArm32 = 10;
    public const ushort EfiArm64 = 11;
    public const ushort EfiX86Http = 15;
    public const ushort EfiX64Http = 16;
    public const ushort EfiArm32Http = 18;
    public const ushort EfiArm64Http = 19;

    /// <summary>True for the IANA codes whose boot file is an http:// URL (UEFI HTTP Boot).</summary>
    public static bool IsHttp(ushort code) => code is EfiX86Http or EfiX64Http or EfiArm32Http or EfiArm64Http or 17 or 20 or 26 or 29 or 33 or 35 or 37;
}
