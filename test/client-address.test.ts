import { describe, expect, it } from "vitest";
import { canonicalAddress, parseAddressRange, TrustedProxies } from "../src/http/client-address.js";
import { clientKey } from "../src/rate-limit/password-attempts.js";

const proxies = (...ranges: string[]) => new TrustedProxies(ranges.map((range) => parseAddressRange(range)!));

describe("the client address behind proxies", () => {
  it("is the socket's address when no proxy is trusted, whatever the headers claim", () => {
    const none = proxies();
    expect(none.clientAddress("198.51.100.7", { "x-forwarded-for": "203.0.113.1" })).toBe("198.51.100.7");
    expect(none.clientAddress("::ffff:198.51.100.7", { forwarded: "for=203.0.113.1" })).toBe("198.51.100.7");
  });

  it("is the first untrusted hop from the right", () => {
    const trusted = proxies("10.0.0.0/8", "192.0.2.1");
    // The client forged the left part; each trusted proxy appended what it saw.
    const headers = { "x-forwarded-for": "1.2.3.4, 203.0.113.9, 10.1.1.1" };
    expect(trusted.clientAddress("192.0.2.1", headers)).toBe("203.0.113.9");
    // A socket that is not a trusted proxy: its headers mean nothing.
    expect(trusted.clientAddress("198.51.100.7", headers)).toBe("198.51.100.7");
    // Every hop trusted: the leftmost one.
    expect(trusted.clientAddress("10.0.0.2", { "x-forwarded-for": "10.9.9.9, 10.0.0.5" })).toBe("10.9.9.9");
    // Duplicate headers, as Node joins them.
    expect(trusted.clientAddress("10.0.0.2", { "x-forwarded-for": ["203.0.113.5", "10.0.0.3"] })).toBe("203.0.113.5");
  });

  it("reads Forwarded when there is no X-Forwarded-For, IPv6 and ports included", () => {
    const trusted = proxies("fd00::/8", "127.0.0.1");
    expect(
      trusted.clientAddress("127.0.0.1", { forwarded: 'for=192.0.2.60;proto=https, for="[2001:DB8::17]:4711"' }),
    ).toBe("2001:db8::17");
    expect(trusted.clientAddress("fd00::1", { forwarded: "for=198.51.100.1:8080;by=fd00::1" })).toBe("198.51.100.1");
    expect(
      trusted.clientAddress("fd00::1", { "x-forwarded-for": "[2001:db8::1]:443", forwarded: "for=198.51.100.1" }),
    ).toBe("2001:db8::1");
  });

  it("stops at the nearest trusted proxy when it forwarded something that is not an address", () => {
    const trusted = proxies("10.0.0.0/8");
    expect(trusted.clientAddress("10.0.0.2", { "x-forwarded-for": "203.0.113.9, unknown" })).toBe("10.0.0.2");
    expect(trusted.clientAddress("10.0.0.2", { forwarded: "for=_hidden" })).toBe("10.0.0.2");
  });

  it("parses addresses and ranges, refusing anything else", () => {
    expect(parseAddressRange("10.0.0.0/8")).toEqual({ address: "10.0.0.0", prefix: 8, family: "ipv4" });
    expect(parseAddressRange("::1")).toEqual({ address: "::1", prefix: 128, family: "ipv6" });
    for (const bad of ["10.0.0.0/33", "10.0.0/8", "example.com", "10.0.0.0/8/1", "::1/abc", ""])
      expect(parseAddressRange(bad)).toBeNull();
    expect(canonicalAddress("[::FFFF:192.0.2.1]:80")).toBe("192.0.2.1");
  });

  it("counts an IPv6 client by its /64, an IPv4 client by its address", () => {
    expect(clientKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey("192.0.2.1")).toBe("192.0.2.1");
    expect(clientKey(undefined)).toBe("unknown");
  });
});
