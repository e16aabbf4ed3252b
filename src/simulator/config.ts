/**
 * Simulator configuration (documented in docs/SIMULATOR.md): the controller's
 * identity, where it listens, its certificate, protection, limits and the tag
 * table. Loaded from JSON and checked with errors that name the file and the
 * offending entry.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../errors.js";
import { checkAlarmConfigs, type AlarmConfig } from "./alarms.js";

export type Animation = "counter" | "sine" | "toggle";

export interface MemberConfig {
  name: string;
  /** The member's LID as TIA Portal assigned it (default: 10, 11, … in order, after any given ones). */
  lid?: number;
  /** A TIA type ("Real", "String[20]", "Array[0..9] of Int", "DTL"), or omitted for a struct. */
  type?: string;
  /** Members of a struct (or of the elements of `type: "Array[..] of Struct"`). */
  members?: MemberConfig[];
  /** UDT name shown when browsing a struct. */
  typeName?: string;
  /** Start value (JSON; 64-bit integers as strings, dates as ISO strings). */
  value?: unknown;
  animation?: Animation;
  /** Animation period in ms (default 10 s for sine, 1 s otherwise). */
  periodMs?: number;
  /** Sine amplitude (default 100). */
  amplitude?: number;
}

export interface DataBlockConfig {
  name: string;
  number: number;
  /** Optimized block access (default true). Non-optimized blocks also answer absolute access. */
  optimized?: boolean;
  members: MemberConfig[];
}

export interface CertificateConfig {
  /** "self-signed" (default), "ca" (issued by a given or generated test CA) or "files". */
  mode?: "self-signed" | "ca" | "files";
  commonName?: string;
  /** IP addresses in the subjectAltName (default: the listening host when it is an IP). */
  ipAddresses?: string[];
  notBefore?: string;
  notAfter?: string;
  /** Folder where a generated key and certificate are kept, so a restart presents the same certificate. */
  dir?: string;
  /** mode "files": PEM files. */
  certFile?: string;
  keyFile?: string;
  /** mode "ca": the CA's PEM files; generated (and kept in `dir`) when absent. */
  caCertFile?: string;
  caKeyFile?: string;
}

export interface SimulatorConfig {
  name: string;
  /** Default "6ES7 516-3AN02-0AB0". */
  orderNumber?: string;
  /** "major.minor", default "3.1" (≥ 3.1 selects the new legitimation). */
  firmware?: string;
  host?: string;
  /** 0 = any free port. */
  port?: number;
  certificate?: CertificateConfig;
  /** Versions the TLS server offers (default TLS 1.3 only, like a real CPU). */
  tlsVersions?: ("TLSv1.3" | "TLSv1.2")[];
  /** false = a controller without Secure Communication: InitSsl is refused. */
  secureCommunication?: boolean;
  password?: string;
  username?: string;
  /** 1 full … 4 none; applies when a password is set (default 3). */
  protectionLevel?: number;
  tagsPerReadMax?: number;
  tagsPerWriteMax?: number;
  /** Verify non-zero symbol CRCs in item addresses (default true; docs/SIMULATOR.md §9 allows a switch). */
  checkSymbolCrc?: boolean;
  /**
   * Refuse (reset) a connection whose TLS record does not hold exactly one
   * S7CommPlus fragment, as the C# reference's receiver cannot cope with it
   * (default false; the counters in `stats.framing` are kept either way).
   */
  strictFraming?: boolean;
  /** "RUN" (default) or "STOP". */
  runState?: "RUN" | "STOP";
  /** Most subscriptions of the controller (SystemLimits LID 0, default 20); beyond it CreateObject is refused. */
  subscriptionsMax?: number;
  /** Most subscribed items of the controller (SystemLimits LID 1, default 2000). */
  subscriptionItemsMax?: number;
  /** Shortest subscription cycle in ms (default 100); a shorter cycle is raised to it. */
  subscriptionMinCycleMs?: number;
  /** A write on a session that carries subscriptions deletes them (default false; also a runtime control). */
  resetSubscriptionOnWrite?: boolean;
  dataBlocks: DataBlockConfig[];
  /** Program alarms raised by Bool trigger tags (docs/SIMULATOR.md "Alarms"). */
  alarms?: AlarmConfig[];
}

export function loadSimulatorConfig(file: string): SimulatorConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read simulator configuration: ${(err as Error).message}`, { file });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`simulator configuration is not JSON: ${(err as Error).message}`, { file });
  }
  const config = checkSimulatorConfig(json, file);
  // Relative paths in the certificate section are relative to the file.
  const base = path.dirname(path.resolve(file));
  const c = config.certificate;
  if (c) for (const key of ["dir", "certFile", "keyFile", "caCertFile", "caKeyFile"] as const) if (c[key]) c[key] = path.resolve(base, c[key]!);
  return config;
}

export function checkSimulatorConfig(json: unknown, file = "simulator configuration"): SimulatorConfig {
  const fail = (what: string): never => {
    throw new ConfigError(`${what}`, { file });
  };
  if (json === null || typeof json !== "object" || Array.isArray(json)) fail("the configuration must be a JSON object");
  const c = json as SimulatorConfig;
  if (typeof c.name !== "string" || c.name.trim() === "") fail('"name" must be a non-empty string');
  if (c.port !== undefined && (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535)) fail(`"port" ${JSON.stringify(c.port)} is not 0…65535`);
  if (c.firmware !== undefined && !/^\d{1,2}\.\d+$/.test(c.firmware)) fail(`"firmware" ${JSON.stringify(c.firmware)} is not "major.minor"`);
  if (c.protectionLevel !== undefined && ![1, 2, 3, 4].includes(c.protectionLevel)) fail('"protectionLevel" must be 1, 2, 3 or 4');
  for (const key of ["secureCommunication", "checkSymbolCrc", "strictFraming", "resetSubscriptionOnWrite"] as const) {
    if (c[key] !== undefined && typeof c[key] !== "boolean") fail(`"${key}" must be true or false`);
  }
  for (const key of ["tagsPerReadMax", "tagsPerWriteMax"] as const) {
    const v = c[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 10_000)) fail(`"${key}" must be a whole number 1…10000`);
  }
  for (const key of ["subscriptionsMax", "subscriptionItemsMax", "subscriptionMinCycleMs"] as const) {
    const v = c[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 1_000_000)) fail(`"${key}" must be a whole number 1…1000000`);
  }
  if (!Array.isArray(c.dataBlocks)) fail('"dataBlocks" must be an array');
  const numbers = new Set<number>();
  const names = new Set<string>();
  c.dataBlocks.forEach((db, i) => {
    const where = `dataBlocks[${i}]`;
    if (typeof db.name !== "string" || db.name === "") fail(`${where}: "name" missing`);
    if (!Number.isInteger(db.number) || db.number < 1 || db.number > 65535) fail(`${where} ("${db.name}"): "number" must be 1…65535`);
    if (numbers.has(db.number)) fail(`${where} ("${db.name}"): DB${db.number} defined twice`);
    if (names.has(db.name.toLowerCase())) fail(`${where}: data block name "${db.name}" used twice`);
    numbers.add(db.number);
    names.add(db.name.toLowerCase());
    if (!Array.isArray(db.members)) fail(`${where} ("${db.name}"): "members" must be an array`);
  });
  checkAlarmConfigs(c.alarms, fail);
  return c;
}

/** A controller with optimized and non-optimized data blocks of every type. */
export function defaultSimulatorConfig(): SimulatorConfig {
  return {
    name: "PLC1",
    orderNumber: "6ES7 516-3AN02-0AB0",
    firmware: "3.1",
    host: "127.0.0.1",
    port: 0,
    tagsPerReadMax: 20,
    tagsPerWriteMax: 20,
    dataBlocks: [
      {
        name: "Line",
        number: 1,
        members: [
          { name: "Speed", type: "Real", value: 0, animation: "sine", periodMs: 10_000, amplitude: 1500 },
          { name: "Counter", type: "DInt", value: 0, animation: "counter" },
          { name: "Running", type: "Bool", value: true, animation: "toggle", periodMs: 5000 },
          { name: "Setpoint", type: "Int", value: 1200 },
          { name: "Name", type: "String[20]", value: "PLC1" },
          {
            name: "Recipe",
            typeName: "UDT_Recipe",
            members: [
              { name: "Id", type: "UDInt", value: 4711 },
              { name: "Title", type: "WString[32]", value: "Grundrezept" },
              { name: "Steps", type: "Array[0..9] of Int", value: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100] },
              { name: "Limits", members: [{ name: "Min", type: "Real", value: -10.5 }, { name: "Max", type: "Real", value: 99.5 }] },
            ],
          },
          { name: "Stamp", type: "DTL", value: "2025-06-01T12:00:00.000Z" },
        ],
      },
      {
        name: "AllTypes",
        number: 2,
        members: [
          { name: "Bool", type: "Bool", value: true },
          { name: "Byte", type: "Byte", value: 0x12 },
          { name: "Char", type: "Char", value: "A" },
          { name: "Word", type: "Word", value: 0x1234 },
          { name: "Int", type: "Int", value: -1234 },
          { name: "DWord", type: "DWord", value: 0xdeadbeef },
          { name: "DInt", type: "DInt", value: -123456789 },
          { name: "Real", type: "Real", value: 3.5 },
          { name: "Date", type: "Date", value: "2024-02-29T00:00:00.000Z" },
          { name: "TOD", type: "Time_Of_Day", value: 45_296_789 },
          { name: "Time", type: "Time", value: -5000 },
          { name: "S5Time", type: "S5Time", value: 12_300 },
          { name: "DT", type: "Date_And_Time", value: "2024-12-24T18:30:05.120Z" },
          { name: "String", type: "String[254]", value: "Hallo" },
          { name: "LReal", type: "LReal", value: 2.718281828459045 },
          { name: "ULInt", type: "ULInt", value: "18446744073709551615" },
          { name: "LInt", type: "LInt", value: "-9223372036854775808" },
          { name: "LWord", type: "LWord", value: "81985529216486895" },
          { name: "USInt", type: "USInt", value: 200 },
          { name: "UInt", type: "UInt", value: 60000 },
          { name: "UDInt", type: "UDInt", value: 4000000000 },
          { name: "SInt", type: "SInt", value: -100 },
          { name: "WChar", type: "WChar", value: "Ω" },
          { name: "WString", type: "WString[40]", value: "Grüße, 温度" },
          { name: "LTime", type: "LTime", value: "1500000000" },
          { name: "LTOD", type: "LTOD", value: "3600000000000" },
          { name: "LDT", type: "LDT", value: "2024-01-02T03:04:05.678Z" },
          { name: "DTL", type: "DTL", value: "2023-07-14T09:08:07.006Z" },
          { name: "Bools", type: "Array[0..7] of Bool", value: [true, false, true, false, false, false, false, true] },
          { name: "Matrix", type: "Array[1..2, 0..2] of DInt", value: [[1, 2, 3], [4, 5, 6]] },
          {
            name: "Motors",
            type: "Array[1..2] of Struct",
            typeName: "UDT_Motor",
            members: [
              { name: "On", type: "Bool", value: false },
              { name: "Rpm", type: "Real", value: 0 },
            ],
          },
        ],
      },
      {
        name: "Raw",
        number: 10,
        optimized: false,
        members: [
          { name: "Level", type: "Int", value: 42 },
          { name: "Flow", type: "Real", value: 12.5 },
          { name: "Pump", type: "Bool", value: true },
          { name: "Valve", type: "Bool", value: false },
          { name: "Code", type: "Byte", value: 7 },
          { name: "Total", type: "DInt", value: 100000 },
          { name: "Label", type: "String[10]", value: "RAW" },
        ],
      },
    ],
  };
}
