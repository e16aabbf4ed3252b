/**
 * The date and time formats of S7 controllers (docs/PROTOCOL.md §19.4, docs/NODES.md §6),
 * converted to and from JavaScript values. Pure functions; range errors are
 * ValueErrors that name the value.
 */
import { ValueError } from "../errors.js";

/** A Date that also carries the nanoseconds within its second (DTL, LDT). */
export class PlcDate extends Date {
  /** 0 … 999 999 999: the full sub-second part; the Date itself keeps milliseconds. */
  readonly nanoseconds: number;
  constructor(msSinceEpoch: number, nanoseconds: number) {
    super(msSinceEpoch);
    this.nanoseconds = nanoseconds;
  }
}

const MS_PER_DAY = 86_400_000;
const DATE_EPOCH_MS = Date.UTC(1990, 0, 1);

function invalid(what: string, value: unknown, range: string): ValueError {
  return new ValueError(`${what}: ${formatValue(value)} is outside ${range}`);
}

export function formatValue(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? value.slice(0, 57) + "..." : value);
  if (Buffer.isBuffer(value)) return `<Buffer ${value.length} bytes>`;
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json.length > 60 ? json.slice(0, 57) + "..." : json;
  } catch {
    // fall through (cyclic objects)
  }
  return String(value);
}

/** Accepts a Date, an ISO 8601 string or milliseconds since 1970; throws ValueError otherwise. */
export function toDate(value: unknown, what: string): Date {
  const d =
    value instanceof Date ? value : typeof value === "string" || typeof value === "number" ? new Date(value) : undefined;
  if (d === undefined || Number.isNaN(d.getTime())) {
    throw new ValueError(`${what}: ${formatValue(value)} is not a date (use a Date, an ISO 8601 string or ms since 1970)`);
  }
  return d;
}

// --- DATE: UInt, days since 1990-01-01 ---------------------------------------

export function dateFromDays(days: number): Date {
  return new Date(DATE_EPOCH_MS + days * MS_PER_DAY);
}

export function daysFromDate(value: unknown, what = "Date"): number {
  const d = toDate(value, what);
  const days = Math.floor((d.getTime() - DATE_EPOCH_MS) / MS_PER_DAY);
  if (days < 0 || days > 0xffff) throw invalid(what, value, "1990-01-01 … 2169-06-06");
  return days;
}

// --- TIME_OF_DAY: UDInt ms since midnight; TIME: DInt ms ---------------------

export function checkTimeOfDayMs(value: unknown, what = "Time_Of_Day"): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value >= MS_PER_DAY) {
    throw invalid(what, value, "0 … 86399999 ms since midnight");
  }
  return value;
}

// --- S5TIME: Word, time base + 3 BCD digits ------------------------------------

const S5_BASES_MS = [10, 100, 1000, 10_000] as const;

export function s5TimeToMs(word: number): number {
  const base = S5_BASES_MS[(word >> 12) & 0x3]!;
  const digits = ((word >> 8) & 0xf) * 100 + ((word >> 4) & 0xf) * 10 + (word & 0xf);
  return digits * base;
}

/** Milliseconds → S5TIME word (time base in bits 12–13, three BCD digits). */
export function msToS5Time(value: unknown, what = "S5Time"): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 9_990_000) {
    throw invalid(what, value, "0 … 9990000 ms");
  }
  // The smallest time base that holds the value in three digits; finer parts are cut off.
  let baseIndex = 0;
  while (value / S5_BASES_MS[baseIndex]! > 999) baseIndex++;
  const digits = Math.floor(value / S5_BASES_MS[baseIndex]!);
  const bcd = (Math.floor(digits / 100) << 8) | (Math.floor(digits / 10) % 10 << 4) | digits % 10;
  return (baseIndex << 12) | bcd;
}

// --- DATE_AND_TIME: 8 BCD bytes ---------------------------------------------------

const bcd = (n: number): number => ((Math.floor(n / 10) % 10) << 4) | n % 10;
const fromBcd = (b: number, what: string): number => {
  const hi = b >> 4;
  const lo = b & 0xf;
  if (hi > 9 || lo > 9) throw new ValueError(`${what}: byte 0x${b.toString(16).padStart(2, "0")} is not BCD`);
  return hi * 10 + lo;
};

/** DT bytes → Date (UTC). Years 90…99 are 1990s, 00…89 are 2000…2089. */
export function dateAndTimeToDate(bytes: Uint8Array): Date {
  if (bytes.length !== 8) throw new ValueError(`Date_And_Time: expected 8 bytes, got ${bytes.length}`);
  const yy = fromBcd(bytes[0]!, "Date_And_Time year");
  const year = yy >= 90 ? 1900 + yy : 2000 + yy;
  const ms = fromBcd(bytes[6]!, "Date_And_Time ms") * 10 + (bytes[7]! >> 4);
  return new Date(
    Date.UTC(
      year,
      fromBcd(bytes[1]!, "Date_And_Time month") - 1,
      fromBcd(bytes[2]!, "Date_And_Time day"),
      fromBcd(bytes[3]!, "Date_And_Time hour"),
      fromBcd(bytes[4]!, "Date_And_Time minute"),
      fromBcd(bytes[5]!, "Date_And_Time second"),
      ms,
    ),
  );
}

export function dateToDateAndTime(value: unknown, what = "Date_And_Time"): Buffer {
  const d = toDate(value, what);
  const year = d.getUTCFullYear();
  if (year < 1990 || year > 2089) throw invalid(what, value, "1990-01-01 … 2089-12-31");
  const ms = d.getUTCMilliseconds();
  const weekday = d.getUTCDay() + 1; // 1 = Sunday
  return Buffer.from([
    bcd(year % 100),
    bcd(d.getUTCMonth() + 1),
    bcd(d.getUTCDate()),
    bcd(d.getUTCHours()),
    bcd(d.getUTCMinutes()),
    bcd(d.getUTCSeconds()),
    bcd(Math.floor(ms / 10)),
    ((ms % 10) << 4) | weekday,
  ]);
}

// --- DTL: year u16, month, day, weekday, hour, minute, second, nanosecond u32 ----

export function dtlToDate(bytes: Uint8Array): PlcDate {
  if (bytes.length !== 12) throw new ValueError(`DTL: expected 12 bytes, got ${bytes.length}`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const ns = b.readUInt32BE(8);
  if (ns > 999_999_999) throw new ValueError(`DTL: nanosecond ${ns} is outside 0 … 999999999`);
  const ms = Date.UTC(b.readUInt16BE(0), b[2]! - 1, b[3]!, b[5]!, b[6]!, b[7]!, Math.floor(ns / 1_000_000));
  return new PlcDate(ms, ns);
}

export function dateToDtl(value: unknown, what = "DTL"): Buffer {
  const d = toDate(value, what);
  const year = d.getUTCFullYear();
  if (year < 1970 || year > 2262) throw invalid(what, value, "1970-01-01 … 2262-04-11");
  const ns = d instanceof PlcDate ? d.nanoseconds : d.getUTCMilliseconds() * 1_000_000;
  const out = Buffer.alloc(12);
  out.writeUInt16BE(year, 0);
  out[2] = d.getUTCMonth() + 1;
  out[3] = d.getUTCDate();
  out[4] = d.getUTCDay() + 1;
  out[5] = d.getUTCHours();
  out[6] = d.getUTCMinutes();
  out[7] = d.getUTCSeconds();
  out.writeUInt32BE(ns, 8);
  return out;
}

// --- LDT: Timestamp, ns since 1970 (u64) ---------------------------------------

export function ldtToDate(ns: bigint): PlcDate {
  const ms = Number(ns / 1_000_000n);
  return new PlcDate(ms, Number(ns % 1_000_000_000n));
}

export function dateToLdt(value: unknown, what = "LDT"): bigint {
  const d = toDate(value, what);
  if (d.getTime() < 0) throw invalid(what, value, "1970-01-01 … 2554-07-21");
  const wholeSecondsMs = BigInt(Math.floor(d.getTime() / 1000)) * 1000n;
  const subsecondNs = d instanceof PlcDate ? BigInt(d.nanoseconds) : BigInt(d.getTime() % 1000) * 1_000_000n;
  return wholeSecondsMs * 1_000_000n + subsecondNs;
}
