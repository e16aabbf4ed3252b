/**
 * Legitimation payloads (docs/PROTOCOL.md §16): the plaintext Struct 40400 of
 * the new method (encryption belongs to the session layer) and the
 * USInt[20] value of the legacy method.
 */
import { DecodeError } from "../../errors.js";
import { ByteReader } from "../bytes.js";
import { Datatype, Ids } from "../constants.js";
import { decodePValue, encodePValue, pv, structMember, type PValue } from "../pvalue.js";

export interface LegitimationPayload {
  /** 1 = legacy style (SHA-1 of the password, no user), 2 = user management (clear text). */
  type: number;
  username: Buffer;
  password: Buffer;
}

/** Struct 40400 {40401 UDInt type, 40402 Blob(0, user), 40403 Blob(0, password)} — the CS form. */
export function legitimationStruct(p: LegitimationPayload): PValue {
  return pv.struct(Ids.LegitimationStruct, [
    [Ids.LegitimationType, pv.udint(p.type)],
    [Ids.LegitimationUsername, pv.blob(p.username)],
    [Ids.LegitimationPassword, pv.blob(p.password)],
  ]);
}

export function encodeLegitimationPayload(p: LegitimationPayload): Buffer {
  return encodePValue(legitimationStruct(p));
}

/**
 * Decodes the plaintext; accepts the Blob members with rootId (CS) and
 * without (PY). `form` says which one was found.
 */
export function decodeLegitimationPayload(data: Uint8Array): LegitimationPayload & { form: "rootId" | "noRootId" } {
  try {
    const v = decodePValue(data);
    const type = structMember(v, Ids.LegitimationType);
    const user = structMember(v, Ids.LegitimationUsername);
    const pass = structMember(v, Ids.LegitimationPassword);
    if (
      v.kind === "scalar" &&
      v.value.type === "Struct" &&
      v.value.id === Ids.LegitimationStruct &&
      type?.kind === "scalar" &&
      type.value.type === "UDInt" &&
      user?.kind === "scalar" &&
      user.value.type === "Blob" &&
      pass?.kind === "scalar" &&
      pass.value.type === "Blob"
    ) {
      return { type: type.value.value, username: user.value.data, password: pass.value.data, form: "rootId" };
    }
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
  }
  return { ...decodeWithoutRootId(data), form: "noRootId" };
}

function decodeWithoutRootId(data: Uint8Array): LegitimationPayload {
  const r = new ByteReader(data);
  if (r.u8() !== 0 || r.u8() !== Datatype.Struct || r.u32() !== Ids.LegitimationStruct) {
    throw new DecodeError("not a legitimation Struct 40400", 0);
  }
  const out: LegitimationPayload = { type: -1, username: Buffer.alloc(0), password: Buffer.alloc(0) };
  for (;;) {
    const id = r.vlqU32();
    if (id === 0) break;
    r.u8();
    const dt = r.u8();
    if (dt === Datatype.UDInt) {
      const v = r.vlqU32();
      if (id === Ids.LegitimationType) out.type = v;
    } else if (dt === Datatype.Blob) {
      const b = r.bytes(r.vlqU32(), "Blob");
      if (id === Ids.LegitimationUsername) out.username = b;
      else if (id === Ids.LegitimationPassword) out.password = b;
    } else {
      throw new DecodeError(`unexpected datatype 0x${dt.toString(16)} in the legitimation struct`, r.offset - 1);
    }
  }
  if (!r.atEnd) throw new DecodeError("bytes after the legitimation struct", r.offset);
  if (out.type < 0) throw new DecodeError("legitimation struct without type 40401", 0);
  return out;
}

/** Legacy method (§16.2): response[i] = SHA-1(password)[i] XOR challenge[i], as USInt[20]. */
export function legacyLegitimationValue(passwordSha1: Uint8Array, challenge: Uint8Array): PValue {
  if (passwordSha1.length !== 20 || challenge.length < 20) throw new RangeError("SHA-1 digest and challenge must be 20 bytes");
  const out = new Uint8Array(20);
  for (let i = 0; i < 20; i++) out[i] = passwordSha1[i]! ^ challenge[i]!;
  return pv.usintArray(out);
}
