/**
 * The controller's identity from the PAOM string of the session's
 * ServerSessionVersion (attribute 319), e.g. `1;6ES7 511-1AK02-0AB0;V3.1` or
 * `1;6ES7 211-1BE31-0XB0 ;V3.0` (docs/PROTOCOL.md §13.2), and what follows from
 * it: which password legitimation the firmware expects (§16).
 */

export type ControllerFamily = "S7-1500" | "S7-1200" | "S7-1200 G2" | "Software Controller" | "unknown";
export type LegitimationMethod = "legacy" | "new";

export interface ControllerIdentity {
  /** The PAOM string as sent. */
  paom: string;
  /** Order number, e.g. "6ES7 511-1AK02-0AB0". */
  orderNumber: string;
  /** Firmware "major.minor", e.g. "3.1"; "" when unknown. */
  firmware: string;
  family: ControllerFamily;
  /** Whether this firmware is new enough for Secure Communication (S7-1500 ≥ 2.9, S7-1200 ≥ 4.5). */
  secureCommunication: boolean;
  /** The password legitimation this firmware expects. */
  legitimation: LegitimationMethod;
}

const PAOM = /^[^;]*;([^;]*[17]\s?(\d{3})[^;]*);[VS](\d{1,2}\.\d+)\s*$/i;

function atLeast(firmware: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = firmware.split(".").map(Number);
  return a > major || (a === major && b >= minor);
}

export function parseControllerIdentity(paom: string): ControllerIdentity {
  const m = PAOM.exec(paom);
  if (!m) {
    return { paom, orderNumber: "", firmware: "", family: "unknown", secureCommunication: false, legitimation: "new" };
  }
  const orderNumber = m[1]!.trim();
  const device = m[2]!;
  const firmware = m[3]!;
  if (device.startsWith("5")) {
    return {
      paom,
      orderNumber,
      firmware,
      family: "S7-1500",
      secureCommunication: atLeast(firmware, 2, 9),
      legitimation: atLeast(firmware, 3, 1) ? "new" : "legacy",
    };
  }
  if (device.startsWith("2")) {
    if (/50-0XB0/i.test(orderNumber)) {
      return { paom, orderNumber, firmware, family: "S7-1200 G2", secureCommunication: true, legitimation: "new" };
    }
    return {
      paom,
      orderNumber,
      firmware,
      family: "S7-1200",
      secureCommunication: atLeast(firmware, 4, 5),
      legitimation: atLeast(firmware, 4, 7) ? "new" : "legacy",
    };
  }
  if (device.startsWith("6")) {
    return { paom, orderNumber, firmware, family: "Software Controller", secureCommunication: atLeast(firmware, 21, 9), legitimation: "legacy" };
  }
  return { paom, orderNumber, firmware, family: "unknown", secureCommunication: false, legitimation: "new" };
}
