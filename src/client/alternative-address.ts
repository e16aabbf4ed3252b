/**
 * The `AlternativeAddress` system tag (docs/NODES.md §2): `AccessPoint=eth1; IPAddress=192.0.2.20;`
 * with our extension `Port=<n>` for simulators and NAT (default 102).
 * Keys are case-insensitive; an unknown key, a repeated key or a bad value is a
 * ConfigError that names it, and nothing changes.
 */
import { isIP } from "node:net";
import { ConfigError } from "../errors.js";

export interface ControllerAddress {
  /** IP address of the controller. */
  host: string;
  port: number;
  /** Local interface name or source address to connect from; empty for the default route. */
  accessPoint: string;
}

export const DEFAULT_PORT = 102;

const KEYS = { accesspoint: "accessPoint", ipaddress: "host", port: "port" } as const;

/** Parses an AlternativeAddress string. An empty string means "no alternative configured" (undefined). */
export function parseAlternativeAddress(text: string): ControllerAddress | undefined {
  if (typeof text !== "string") throw new ConfigError(`AlternativeAddress must be a string, got ${typeof text}`);
  if (text.trim() === "") return undefined;
  const seen = new Set<string>();
  const result: ControllerAddress = { host: "", port: DEFAULT_PORT, accessPoint: "" };
  for (const raw of text.split(";")) {
    const part = raw.trim();
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq < 0) throw new ConfigError(`AlternativeAddress "${text}": "${part}" is not of the form Key=Value`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    const field = KEYS[key.toLowerCase() as keyof typeof KEYS];
    if (field === undefined) {
      throw new ConfigError(`AlternativeAddress "${text}": unknown key "${key}" (known: AccessPoint, IPAddress, Port)`);
    }
    if (seen.has(field)) throw new ConfigError(`AlternativeAddress "${text}": key "${key}" given twice`);
    seen.add(field);
    if (field === "host") {
      if (isIP(value) === 0) throw new ConfigError(`AlternativeAddress "${text}": "${value}" is not an IP address`);
      result.host = value;
    } else if (field === "port") {
      result.port = parsePort(value, `AlternativeAddress "${text}": Port`);
    } else {
      result.accessPoint = value;
    }
  }
  if (result.host === "") throw new ConfigError(`AlternativeAddress "${text}": IPAddress missing`);
  return result;
}

/** Formats an address in the AlternativeAddress form (Port only when it is not 102). */
export function formatAlternativeAddress(address: ControllerAddress): string {
  const parts: string[] = [];
  if (address.accessPoint !== "") parts.push(`AccessPoint=${address.accessPoint};`);
  parts.push(`IPAddress=${address.host};`);
  if (address.port !== DEFAULT_PORT) parts.push(`Port=${address.port};`);
  return parts.join(" ");
}

/** A TCP port 1..65535 given as number or decimal string; the error names `what`. */
export function parsePort(value: unknown, what = "port"): number {
  const n = typeof value === "number" ? value : typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new ConfigError(`${what} must be a whole number 1..65535, got "${String(value)}"`);
  return n;
}
