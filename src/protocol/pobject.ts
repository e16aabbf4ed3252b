/**
 * PObject: object trees of CreateObject and Explore (docs/PROTOCOL.md §10).
 * Elements are kept in wire order so that a decoded tree re-encodes to the
 * same bytes.
 */
import { DecodeError } from "../errors.js";
import { ByteReader, ByteWriter } from "./bytes.js";
import { ElementTag } from "./constants.js";
import { readPValue, writePValue, type PValue } from "./pvalue.js";
import { readVarnameList, readVartypeList, writeVarnameList, writeVartypeList, type VarnameList, type VartypeList } from "./typeinfo.js";

/** Nesting limit for objects inside objects. */
export const MAX_OBJECT_DEPTH = 32;

/**
 * Legacy tag description `a7 … a8` of old firmware (TIA V12 era): a byte,
 * the name (length VLQ + bytes) and the remaining bytes up to `a8`, whose
 * meaning is not fully known.
 */
export interface TagDescription {
  unknown: number;
  name: Buffer;
  rest: Buffer;
}

export type ObjectElement =
  | { tag: "attribute"; id: number; value: PValue }
  | { tag: "object"; object: PObject }
  | { tag: "relation"; id: number; value: number }
  | { tag: "vartypeList"; list: VartypeList }
  | { tag: "varnameList"; list: VarnameList }
  | { tag: "tagDescription"; description: TagDescription };

export interface PObject {
  relationId: number;
  classId: number;
  classFlags: number;
  attributeId: number;
  /** Present exactly when attributeId ≠ 0. */
  attributeFlags?: number;
  /** Attributes, child objects, relations and type lists in wire order. */
  elements: ObjectElement[];
}

/** Reads one object; the reader stands on its `a1` tag. */
export function readPObject(r: ByteReader, depth = 0): PObject {
  if (depth > MAX_OBJECT_DEPTH) throw new DecodeError(`objects nested deeper than ${MAX_OBJECT_DEPTH}`, r.offset);
  const at = r.offset;
  if (r.u8() !== ElementTag.StartOfObject) throw new DecodeError("object does not start with a1", at);
  const relationId = r.u32();
  const classId = r.vlqU32();
  const classFlags = r.vlqU32();
  const attributeId = r.vlqU32();
  const obj: PObject = { relationId, classId, classFlags, attributeId, elements: [] };
  if (attributeId !== 0) obj.attributeFlags = r.vlqU32();
  for (;;) {
    const tagAt = r.offset;
    const tag = r.peek();
    switch (tag) {
      case ElementTag.TerminatingObject:
        r.u8();
        return obj;
      case ElementTag.StartOfObject:
        obj.elements.push({ tag: "object", object: readPObject(r, depth + 1) });
        break;
      case ElementTag.Attribute: {
        r.u8();
        const id = r.vlqU32();
        obj.elements.push({ tag: "attribute", id, value: readPValue(r) });
        break;
      }
      case ElementTag.Relation: {
        r.u8();
        const id = r.vlqU32();
        obj.elements.push({ tag: "relation", id, value: r.u32() });
        break;
      }
      case ElementTag.VartypeList:
        r.u8();
        obj.elements.push({ tag: "vartypeList", list: readVartypeList(r) });
        break;
      case ElementTag.VarnameList:
        r.u8();
        obj.elements.push({ tag: "varnameList", list: readVarnameList(r) });
        break;
      case ElementTag.StartOfTagDescription:
        r.u8();
        obj.elements.push({ tag: "tagDescription", description: readTagDescription(r) });
        break;
      default:
        throw new DecodeError(`unknown element tag 0x${tag.toString(16)} in object`, tagAt);
    }
  }
}

function readTagDescription(r: ByteReader): TagDescription {
  const unknown = r.u8();
  const nameLength = r.vlqU32();
  const name = r.bytes(nameLength, "tag name");
  const restStart = r.offset;
  let n = 0;
  while (r.peek(n) !== ElementTag.TerminatingTagDescription) n++;
  const rest = r.bytes(n);
  if (r.u8() !== ElementTag.TerminatingTagDescription) throw new DecodeError("tag description without a8", restStart);
  return { unknown, name, rest };
}

/** Reads objects while the next byte is `a1`. */
export function readPObjectList(r: ByteReader): PObject[] {
  const out: PObject[] = [];
  while (!r.atEnd && r.peek() === ElementTag.StartOfObject) out.push(readPObject(r));
  return out;
}

export function writePObject(w: ByteWriter, o: PObject, depth = 0): void {
  if (depth > MAX_OBJECT_DEPTH) throw new RangeError(`objects nested deeper than ${MAX_OBJECT_DEPTH}`);
  w.u8(ElementTag.StartOfObject).u32(o.relationId).vlqU32(o.classId).vlqU32(o.classFlags).vlqU32(o.attributeId);
  if (o.attributeId !== 0) {
    if (o.attributeFlags === undefined) throw new RangeError("an object with attributeId ≠ 0 needs attributeFlags");
    w.vlqU32(o.attributeFlags);
  } else if (o.attributeFlags !== undefined) {
    throw new RangeError("attributeFlags are only written when attributeId ≠ 0");
  }
  for (const e of o.elements) {
    switch (e.tag) {
      case "attribute":
        w.u8(ElementTag.Attribute).vlqU32(e.id);
        writePValue(w, e.value);
        break;
      case "object":
        writePObject(w, e.object, depth + 1);
        break;
      case "relation":
        w.u8(ElementTag.Relation).vlqU32(e.id).u32(e.value);
        break;
      case "vartypeList":
        w.u8(ElementTag.VartypeList);
        writeVartypeList(w, e.list);
        break;
      case "varnameList":
        w.u8(ElementTag.VarnameList);
        writeVarnameList(w, e.list);
        break;
      case "tagDescription":
        if (e.description.rest.includes(ElementTag.TerminatingTagDescription)) throw new RangeError("tag description rest contains a8");
        w.u8(ElementTag.StartOfTagDescription).u8(e.description.unknown).vlqU32(e.description.name.length);
        w.bytes(e.description.name).bytes(e.description.rest).u8(ElementTag.TerminatingTagDescription);
        break;
    }
  }
  w.u8(ElementTag.TerminatingObject);
}

export function encodePObject(o: PObject): Buffer {
  const w = new ByteWriter(128);
  writePObject(w, o);
  return w.toBuffer();
}

/** Decodes a buffer that holds exactly one object. */
export function decodePObject(data: Uint8Array): PObject {
  const r = new ByteReader(data);
  const o = readPObject(r);
  if (!r.atEnd) throw new DecodeError(`${r.remaining} byte(s) after the object`, r.offset);
  return o;
}

// ---------------------------------------------------------------------------
// Helpers

/** The first attribute `id` of an object, or undefined. */
export function getAttribute(o: PObject, id: number): PValue | undefined {
  for (const e of o.elements) if (e.tag === "attribute" && e.id === id) return e.value;
  return undefined;
}

/** The child objects of an object, in order. */
export function childObjects(o: PObject): PObject[] {
  const out: PObject[] = [];
  for (const e of o.elements) if (e.tag === "object") out.push(e.object);
  return out;
}

/** The VartypeList and VarnameList of a type object, when present. */
export function typeLists(o: PObject): { types?: VartypeList; names?: VarnameList } {
  const out: { types?: VartypeList; names?: VarnameList } = {};
  for (const e of o.elements) {
    if (e.tag === "vartypeList" && out.types === undefined) out.types = e.list;
    if (e.tag === "varnameList" && out.names === undefined) out.names = e.list;
  }
  return out;
}

/** A new object with attributeId 0 and the given attributes (in order). */
export function makeObject(
  relationId: number,
  classId: number,
  attributes: readonly (readonly [number, PValue])[] = [],
  children: readonly PObject[] = [],
  classFlags = 0,
): PObject {
  return {
    relationId,
    classId,
    classFlags,
    attributeId: 0,
    elements: [
      ...attributes.map(([id, value]): ObjectElement => ({ tag: "attribute", id, value })),
      ...children.map((object): ObjectElement => ({ tag: "object", object })),
    ],
  };
}
