import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { HubError } from "@hub/kit";

/** One address a host name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (tests inject one). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

/**
 * The system's resolver, as node:http would use it (getaddrinfo: /etc/hosts, then DNS), asked for
 * every address so that each one is checked, not only the first.
 */
export const systemResolver: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).flatMap((a) =>
    a.family === 4 || a.family === 6 ? [{ address: a.address, family: a.family }] : [],
  );

/** What kind of address a target resolved to; only `public` is accepted without more. */
export type AddressKind =
  | "public"
  | "unspecified"
  | "loopback"
  | "private"
  | "link-local"
  | "shared (CGNAT)"
  | "multicast"
  | "reserved";

/** The ranges no webhook reaches without an operator naming them (first match wins). */
const RANGES: [Exclude<AddressKind, "public">, "ipv4" | "ipv6", string, number][] = [
  ["unspecified", "ipv4", "0.0.0.0", 8],
  ["unspecified", "ipv6", "::", 128],
  ["loopback", "ipv4", "127.0.0.0", 8],
  ["loopback", "ipv6", "::1", 128],
  ["private", "ipv4", "10.0.0.0", 8],
  ["private", "ipv4", "172.16.0.0", 12],
  ["private", "ipv4", "192.168.0.0", 16],
  ["private", "ipv6", "fc00::", 7],
  // 169.254.169.254 is the cloud providers' metadata service: the classic SSRF target.
  ["link-local", "ipv4", "169.254.0.0", 16],
  ["link-local", "ipv6", "fe80::", 10],
  ["shared (CGNAT)", "ipv4", "100.64.0.0", 10],
  ["multicast", "ipv4", "224.0.0.0", 4],
  ["multicast", "ipv6", "ff00::", 8],
  // Future use and broadcast, IETF protocol assignments, benchmarking networks (used inside
  // data centres), and Teredo (a tunnel that hides the real endpoint).
  ["reserved", "ipv4", "240.0.0.0", 4],
  ["reserved", "ipv4", "192.0.0.0", 24],
  ["reserved", "ipv4", "198.18.0.0", 15],
  ["reserved", "ipv6", "2001::", 32],
];

const LISTS = RANGES.map(([kind, type, network, prefix]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return { kind, type, list };
});

/** An IPv6 address as its 8 groups (zone dropped, a dotted IPv4 tail folded in); null if none. */
function ipv6Groups(address: string): number[] | null {
  let text = address.split("%")[0]!.toLowerCase();
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const bytes = dotted[2]!.split(".").map(Number);
    text = `${dotted[1]}${((bytes[0]! << 8) | bytes[1]!).toString(16)}:${((bytes[2]! << 8) | bytes[3]!).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  const parsed = groups.map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  return parsed.some(Number.isNaN) ? null : parsed;
}

const ipv4Of = (high: number, low: number) =>
  [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");

/**
 * The IPv4 address an IPv6 address carries where a connection to it reaches that IPv4 address:
 * IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4
 * (2002::/16). Checked as that IPv4 address, so ::ffff:127.0.0.1 is loopback.
 */
function embeddedIPv4(groups: readonly number[]): string | null {
  const g = (i: number) => groups[i] ?? 0;
  const zeroTo4 = [0, 1, 2, 3, 4].every((i) => g(i) === 0);
  if (zeroTo4 && (g(5) === 0xffff || (g(5) === 0 && (g(6) !== 0 || g(7) > 1))))
    return ipv4Of(g(6), g(7));
  if (g(0) === 0x64 && g(1) === 0xff9b && [2, 3, 4, 5].every((i) => g(i) === 0))
    return ipv4Of(g(6), g(7));
  if (g(0) === 0x2002) return ipv4Of(g(1), g(2));
  return null;
}

/** What kind of address `address` is (an IPv4 or IPv6 literal); "reserved" for anything else. */
export function addressKind(address: string): AddressKind {
  const bare = address.replace(/^\[|\]$/g, "");
  const family = isIP(bare.split("%")[0]!);
  if (family === 0) return "reserved";
  if (family === 6) {
    const groups = ipv6Groups(bare);
    if (!groups) return "reserved";
    const inner = embeddedIPv4(groups);
    if (inner) return addressKind(inner);
  }
  const type = family === 4 ? "ipv4" : "ipv6";
  const plain = bare.split("%")[0]!;
  return LISTS.find((l) => l.type === type && l.list.check(plain, type))?.kind ?? "public";
}

export interface TargetPolicyOptions {
  /** Production: https only, public addresses only unless allow-listed. Development also allows http and loopback. */
  production: boolean;
  /**
   * HUB_WEBHOOK_ALLOWED_HOSTS: host names (any address they resolve to is accepted), addresses,
   * or networks (`10.1.0.0/16`) an operator accepts although they are not public.
   */
  allowedHosts?: readonly string[];
  resolve?: HostResolver;
}

/** A target checked for one connection: the URL and the addresses the connection may use. */
export interface CheckedTarget {
  url: URL;
  hostname: string;
  /** Every address the host resolved to, each checked; the connection uses these only. */
  addresses: ResolvedAddress[];
}

/** Longer URLs are no webhook endpoint anyone means to register. */
const MAX_URL_LENGTH = 2_048;

const normalHost = (host: string) =>
  host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");

function refused(message: string): HubError {
  return new HubError("BAD_USER_INPUT", message, { field: "url" });
}

/**
 * Where webhooks may be delivered (contract v3). Registration checks a URL and every address its
 * host resolves to; each delivery checks again and connects only to the addresses it checked
 * (CheckedTarget, used by postToTarget), so a DNS answer that changes between the check and the
 * connection (rebinding) cannot reach a private address.
 */
export class TargetPolicy {
  private readonly production: boolean;
  private readonly resolve: HostResolver;
  private readonly allowedNames = new Set<string>();
  private readonly allowedAddresses = new BlockList();

  constructor(options: TargetPolicyOptions) {
    this.production = options.production;
    this.resolve = options.resolve ?? systemResolver;
    for (const raw of options.allowedHosts ?? []) {
      const entry = normalHost(raw);
      if (!entry) continue;
      const [network, prefix] = entry.split("/");
      const family = isIP(network!);
      if (family !== 0 && prefix !== undefined)
        this.allowedAddresses.addSubnet(network!, Number(prefix), family === 4 ? "ipv4" : "ipv6");
      else if (family !== 0)
        this.allowedAddresses.addAddress(network!, family === 4 ? "ipv4" : "ipv6");
      else this.allowedNames.add(entry);
    }
  }

  /** The URL's form: absolute, https (http too in development), no credentials in it. */
  checkUrl(raw: string): URL {
    if (raw.length > MAX_URL_LENGTH)
      throw refused(`The webhook URL is longer than ${MAX_URL_LENGTH} characters.`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw refused("The webhook URL is not an absolute URL.");
    }
    const schemes = this.production ? ["https:"] : ["https:", "http:"];
    if (!schemes.includes(url.protocol))
      throw refused(
        this.production
          ? "The webhook URL must use https."
          : "The webhook URL must use https or (in development) http.",
      );
    // A password in the URL would be stored and sent in clear; the signature authenticates us.
    if (url.username || url.password)
      throw refused("The webhook URL must not carry a user name or password.");
    if (!normalHost(url.hostname)) throw refused("The webhook URL has no host.");
    return url;
  }

  /**
   * Checks the URL and every address its host resolves to now; the connection must use the
   * answer's addresses (CheckedTarget). BAD_USER_INPUT naming the address that is refused.
   */
  async check(raw: string): Promise<CheckedTarget> {
    const url = this.checkUrl(raw);
    const hostname = normalHost(url.hostname);
    const family = isIP(hostname);
    let addresses: ResolvedAddress[];
    if (family === 4 || family === 6) addresses = [{ address: hostname, family }];
    else {
      try {
        addresses = await this.resolve(hostname);
      } catch {
        addresses = [];
      }
      if (addresses.length === 0)
        throw refused(`The webhook URL's host ${hostname} does not resolve.`);
    }
    for (const { address, family: f } of addresses) {
      const kind = addressKind(address);
      if (kind === "public" || this.allows(hostname, address, f, kind)) continue;
      throw refused(
        `The webhook URL's host ${hostname} resolves to ${address}, a ${kind} address: ${
          this.production
            ? "production delivers only to public addresses"
            : "development delivers only to public and loopback addresses"
        } unless HUB_WEBHOOK_ALLOWED_HOSTS names the host.`,
      );
    }
    return { url, hostname, addresses };
  }

  private allows(hostname: string, address: string, family: 4 | 6, kind: AddressKind): boolean {
    if (!this.production && kind === "loopback") return true;
    if (this.allowedNames.has(hostname)) return true;
    return this.allowedAddresses.check(address.split("%")[0]!, family === 4 ? "ipv4" : "ipv6");
  }
}
