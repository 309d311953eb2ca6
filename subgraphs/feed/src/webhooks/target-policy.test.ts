import { HubError } from "@hub/kit";
import { describe, expect, it } from "vitest";
import { addressKind, TargetPolicy, type ResolvedAddress } from "./target-policy.js";

const PUBLIC = "93.184.216.34";

/** A resolver that answers from a table (no DNS in tests). */
const resolver =
  (table: Record<string, string[]>) =>
  async (host: string): Promise<ResolvedAddress[]> =>
    (table[host] ?? []).map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));

async function refusal(check: Promise<unknown>): Promise<HubError> {
  const error = await check.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HubError);
  expect((error as HubError).code).toBe("BAD_USER_INPUT");
  expect((error as HubError).extensions["field"]).toBe("url");
  return error as HubError;
}

describe("webhook target policy (webhooks/target-policy.ts)", () => {
  it("classifies addresses: private, loopback, link-local, unspecified, CGNAT, and IPv4 inside IPv6", () => {
    const cases: [string, string][] = [
      [PUBLIC, "public"],
      ["8.8.8.8", "public"],
      ["2606:4700:4700::1111", "public"],
      ["10.1.2.3", "private"],
      ["172.16.0.1", "private"],
      ["172.31.255.255", "private"],
      ["172.32.0.1", "public"],
      ["192.168.1.1", "private"],
      ["fc00::1", "private"],
      ["fd12:3456::1", "private"],
      ["127.0.0.1", "loopback"],
      ["127.8.9.10", "loopback"],
      ["::1", "loopback"],
      ["169.254.169.254", "link-local"],
      ["fe80::1", "link-local"],
      ["fe80::1%eth0", "link-local"],
      ["0.0.0.0", "unspecified"],
      ["::", "unspecified"],
      ["100.64.0.1", "shared (CGNAT)"],
      ["100.127.255.255", "shared (CGNAT)"],
      ["100.128.0.1", "public"],
      ["224.0.0.1", "multicast"],
      ["ff02::1", "multicast"],
      ["255.255.255.255", "reserved"],
      ["::ffff:127.0.0.1", "loopback"],
      ["::ffff:7f00:1", "loopback"],
      ["::ffff:10.0.0.1", "private"],
      ["::ffff:93.184.216.34", "public"],
      ["64:ff9b::a9fe:a9fe", "link-local"],
      ["2002:c0a8:0101::1", "private"],
      ["[::1]", "loopback"],
      ["not an address", "reserved"],
    ];
    for (const [address, kind] of cases) expect(addressKind(address), address).toBe(kind);
  });

  it("production: https only, no credentials, an absolute URL", async () => {
    const policy = new TargetPolicy({
      production: true,
      resolve: resolver({ "hooks.example.com": [PUBLIC] }),
    });
    expect((await policy.check("https://hooks.example.com/card-events")).addresses).toEqual([
      { address: PUBLIC, family: 4 },
    ]);
    expect((await refusal(policy.check("http://hooks.example.com/"))).message).toMatch(/https/);
    expect((await refusal(policy.check("https://user:pw@hooks.example.com/"))).message).toMatch(
      /user name or password/,
    );
    await refusal(policy.check("/relative"));
    await refusal(policy.check("ftp://hooks.example.com/"));
    await refusal(policy.check(`https://hooks.example.com/${"a".repeat(2_100)}`));
  });

  it("production refuses private, loopback, link-local, unspecified and CGNAT targets, by name or literal", async () => {
    const policy = new TargetPolicy({
      production: true,
      resolve: resolver({
        "internal.example.com": ["10.0.0.5"],
        "localhost.example.com": ["127.0.0.1"],
        "mixed.example.com": [PUBLIC, "192.168.0.10"],
        "metadata.example.com": ["169.254.169.254"],
        "v6.example.com": ["2606:4700:4700::1111", "fe80::1"],
      }),
    });
    const refusals: [string, RegExp][] = [
      ["https://internal.example.com/", /10\.0\.0\.5, a private address/],
      ["https://localhost.example.com/", /127\.0\.0\.1, a loopback address/],
      // Every address is checked, not only the first.
      ["https://mixed.example.com/", /192\.168\.0\.10, a private address/],
      ["https://metadata.example.com/", /link-local/],
      ["https://v6.example.com/", /fe80::1, a link-local/],
      ["https://127.0.0.1/", /loopback/],
      ["https://[::1]/", /loopback/],
      ["https://[::ffff:127.0.0.1]/", /loopback/],
      ["https://0.0.0.0/", /unspecified/],
      ["https://100.64.1.1/", /CGNAT/],
      ["https://2130706433/", /127\.0\.0\.1, a loopback/], // the URL parser's spelling of 127.0.0.1
      ["https://unknown.example.com/", /does not resolve/],
    ];
    for (const [url, message] of refusals)
      expect((await refusal(policy.check(url))).message, url).toMatch(message);
  });

  it("an operator's allow-list names hosts, addresses or networks that are not public", async () => {
    const policy = new TargetPolicy({
      production: true,
      allowedHosts: ["Partner-Bank.internal.", "10.20.0.0/16", "192.168.7.7", "fd00::5"],
      resolve: resolver({
        "partner-bank.internal": ["10.9.9.9", "127.0.0.1"],
        "gw.internal": ["10.20.3.4"],
        "other.internal": ["10.21.3.4"],
        "pinned.internal": ["192.168.7.7"],
      }),
    });
    expect((await policy.check("https://partner-bank.internal/hook")).addresses).toHaveLength(2);
    expect((await policy.check("https://gw.internal/hook")).addresses).toHaveLength(1);
    expect((await policy.check("https://pinned.internal/hook")).addresses).toHaveLength(1);
    expect((await policy.check("https://[fd00::5]/hook")).addresses).toHaveLength(1);
    await refusal(policy.check("https://other.internal/hook"));
    // The allow-list lifts the address check, not the scheme.
    await refusal(policy.check("http://partner-bank.internal/hook"));
  });

  it("development also allows http and loopback, still refuses private and link-local", async () => {
    const policy = new TargetPolicy({
      production: false,
      resolve: resolver({ localhost: ["127.0.0.1", "::1"], "lan.test": ["192.168.1.20"] }),
    });
    expect((await policy.check("http://localhost:4010/hook")).addresses).toHaveLength(2);
    expect((await policy.check("http://127.0.0.1:4010/hook")).hostname).toBe("127.0.0.1");
    expect((await refusal(policy.check("http://lan.test/"))).message).toMatch(/development/);
    await refusal(policy.check("http://169.254.169.254/latest/meta-data"));
    await refusal(policy.check("ftp://localhost/"));
  });
});
