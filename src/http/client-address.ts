import type { IncomingHttpHeaders } from "node:http";
import { BlockList, isIP } from "node:net";

export interface AddressRange {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/** An IP address as it is compared and counted: no brackets or port, IPv4-mapped IPv6 as IPv4, lower case. */
export function canonicalAddress(text: string): string | undefined {
  let address = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(":"));
  address = address.toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, "$1");
  return isIP(address) === 0 ? undefined : address;
}

/** "10.0.0.0/8", "fd00::/8", "192.0.2.7" (a single address); null when malformed. */
export function parseAddressRange(text: string): AddressRange | null {
  const [addressText, prefixText, ...rest] = text.trim().split("/");
  const address = canonicalAddress(addressText ?? "");
  if (!address || rest.length > 0) return null;
  const family = isIP(address) === 4 ? "ipv4" : "ipv6";
  const bits = family === "ipv4" ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  return prefix <= bits ? { address, prefix, family } : null;
}

/** The addresses a forwarding header lists, nearest the client first: `X-Forwarded-For`, else `Forwarded`'s `for=`. */
function forwardedChain(headers: IncomingHttpHeaders): string[] {
  const forwardedFor = headers["x-forwarded-for"];
  if (forwardedFor)
    return (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor).split(",").map((hop) => hop.trim());
  const forwarded = headers.forwarded;
  if (!forwarded) return [];
  return forwarded.split(",").map((element) => {
    const parameter = element.split(";").find((pair) => pair.trim().toLowerCase().startsWith("for="));
    return parameter
      ? parameter
          .trim()
          .slice(4)
          .replace(/^"(.*)"$/, "$1")
      : "";
  });
}

/**
 * The proxies (`TRUST_PROXY`) whose forwarding headers are believed. The client is the first hop,
 * from the right, that is not one of them: each trusted proxy appends the address it received the
 * request from, so everything left of the first untrusted hop may have been written by the client
 * itself and is ignored.
 */
export class TrustedProxies {
  private readonly list: BlockList | null;

  constructor(ranges: readonly AddressRange[]) {
    if (ranges.length === 0) {
      this.list = null;
      return;
    }
    this.list = new BlockList();
    for (const range of ranges) this.list.addSubnet(range.address, range.prefix, range.family);
  }

  clientAddress(socketAddress: string | undefined, headers: IncomingHttpHeaders): string | undefined {
    let client = socketAddress === undefined ? undefined : canonicalAddress(socketAddress);
    if (!client || !this.trusts(client)) return client;
    const chain = forwardedChain(headers);
    for (let index = chain.length - 1; index >= 0; index--) {
      const hop = canonicalAddress(chain[index]!);
      // A trusted proxy forwarded something that is not an address: the client is unknown beyond it.
      if (!hop) return client;
      client = hop;
      if (!this.trusts(hop)) return hop;
    }
    return client;
  }

  private trusts(address: string): boolean {
    return this.list?.check(address, isIP(address) === 4 ? "ipv4" : "ipv6") ?? false;
  }
}
