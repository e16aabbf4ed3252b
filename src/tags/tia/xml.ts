/**
 * A small XML reader for engineering exports: elements, attributes, text,
 * CDATA, comments, processing instructions (the XML declaration), with the
 * line of every element. Namespaces stay part of the name ("r:id"); `local`
 * is the name without its prefix.
 *
 * Hand-written rather than a library because every error must name file,
 * line and element, and because the safe subset is small: a DOCTYPE is
 * refused (no DTD, so no external or expanding entities), only the five
 * predefined entities and character references are decoded, and input size
 * and nesting depth are capped.
 */
import { tagFileError } from "./errors.js";

export interface XmlElement {
  /** The name as written, prefix included. */
  name: string;
  /** The name without a namespace prefix. */
  local: string;
  attributes: ReadonlyMap<string, string>;
  children: XmlElement[];
  /** Direct text content (text and CDATA, entities decoded), in document order. */
  text: string;
  line: number;
}

export interface XmlLimits {
  /** Characters of input accepted. */
  maxChars: number;
  /** Element nesting depth accepted. */
  maxDepth: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxChars: 32 * 1024 * 1024, maxDepth: 256 };

const PREDEFINED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
const NAME_START = /[A-Za-z_:\u00C0-\uFFFF]/;
const NAME_CHAR = /[A-Za-z0-9_:.\-\u00B7\u00C0-\uFFFF]/;

/** Decodes a file's bytes: UTF-8 (a BOM is dropped); UTF-16 is refused by name. */
export function decodeXmlBytes(data: Buffer, file: string): string {
  if ((data[0] === 0xff && data[1] === 0xfe) || (data[0] === 0xfe && data[1] === 0xff)) {
    throw tagFileError({ file, line: 1, element: "document" }, "UTF-16 files are not read; export as UTF-8");
  }
  const text = data.toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Parses a whole document and returns its root element; throws a ConfigError naming file, line and element. */
export function parseXml(source: string, file: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  return new XmlReader(source, file, limits).document();
}

class XmlReader {
  private pos = 0;
  private line = 1;
  /** Open elements, innermost last, for error messages. */
  private readonly open: XmlElement[] = [];

  constructor(
    private readonly src: string,
    private readonly file: string,
    private readonly limits: XmlLimits,
  ) {
    if (src.charCodeAt(0) === 0xfeff) this.pos = 1;
    if (src.length > limits.maxChars) {
      throw tagFileError({ file, line: 0, element: "document" }, `file too large (${src.length} characters, at most ${limits.maxChars})`);
    }
  }

  document(): XmlElement {
    if (this.src.trim().length === 0) this.fail("document", "empty file, not XML");
    this.misc();
    if (!this.src.startsWith("<", this.pos) || !NAME_START.test(this.src[this.pos + 1] ?? "")) {
      this.fail("document", "not XML: no root element");
    }
    const root = this.element();
    this.misc();
    if (this.pos < this.src.length) this.fail(root.name, "content after the root element");
    return root;
  }

  /** Whitespace, comments and processing instructions outside the root; refuses a DOCTYPE. */
  private misc(): void {
    for (;;) {
      this.skipSpace();
      if (this.src.startsWith("<?", this.pos)) this.skipPast("?>", "processing instruction");
      else if (this.src.startsWith("<!--", this.pos)) this.skipPast("-->", "comment");
      else if (this.src.startsWith("<!", this.pos)) {
        const doctype = this.src.startsWith("<!DOCTYPE", this.pos);
        this.fail("!DOCTYPE", doctype ? "a DOCTYPE is refused (no DTDs or entity declarations are read)" : "markup declaration not allowed");
      } else return;
    }
  }

  private element(): XmlElement {
    const line = this.line;
    this.pos++; // "<"
    const name = this.name("element");
    const element: XmlElement = { name, local: name.slice(name.indexOf(":") + 1), attributes: new Map(), children: [], text: "", line };
    if (this.open.length >= this.limits.maxDepth) this.fail(name, `elements nested deeper than ${this.limits.maxDepth}`);
    const attributes = element.attributes as Map<string, string>;
    for (;;) {
      const spaced = this.skipSpace();
      const c = this.src[this.pos];
      if (c === undefined) this.fail(name, "file ends inside the start tag (truncated)");
      if (c === "/") {
        if (this.src[this.pos + 1] !== ">") this.fail(name, "'>' expected after '/'");
        this.pos += 2;
        return element;
      }
      if (c === ">") {
        this.pos++;
        break;
      }
      if (!spaced) this.fail(name, "whitespace expected between attributes");
      const attr = this.name(name);
      this.skipSpace();
      if (this.src[this.pos] !== "=") this.fail(name, `'=' expected after attribute ${attr}`);
      this.pos++;
      this.skipSpace();
      const quote = this.src[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(name, `attribute ${attr}: value must be quoted`);
      const end = this.src.indexOf(quote, this.pos + 1);
      if (end < 0) this.fail(name, `attribute ${attr}: file ends inside the value (truncated)`);
      const raw = this.src.slice(this.pos + 1, end);
      if (raw.includes("<")) this.fail(name, `attribute ${attr}: '<' not allowed in a value`);
      if (attributes.has(attr)) this.fail(name, `attribute ${attr} given twice`);
      attributes.set(attr, this.decode(raw, name));
      this.advanceTo(end + 1);
    }
    this.open.push(element);
    this.content(element);
    this.open.pop();
    return element;
  }

  private content(element: XmlElement): void {
    for (;;) {
      const lt = this.src.indexOf("<", this.pos);
      if (lt < 0) this.fail(element.name, `file ends before </${element.name}> (truncated)`);
      if (lt > this.pos) {
        const raw = this.src.slice(this.pos, lt);
        element.text += this.decode(raw, element.name);
        this.advanceTo(lt);
      }
      if (this.src.startsWith("</", this.pos)) {
        this.pos += 2;
        const close = this.name(element.name);
        if (close !== element.name) this.fail(element.name, `</${close}> closes <${element.name}> (opened on line ${element.line})`);
        this.skipSpace();
        if (this.src[this.pos] !== ">") this.fail(element.name, "'>' expected in the end tag");
        this.pos++;
        return;
      }
      if (this.src.startsWith("<![CDATA[", this.pos)) {
        const start = this.pos + 9;
        const end = this.src.indexOf("]]>", start);
        if (end < 0) this.fail(element.name, "file ends inside CDATA (truncated)");
        element.text += this.src.slice(start, end);
        this.advanceTo(end + 3);
      } else if (this.src.startsWith("<!--", this.pos)) this.skipPast("-->", "comment");
      else if (this.src.startsWith("<?", this.pos)) this.skipPast("?>", "processing instruction");
      else if (this.src.startsWith("<!", this.pos)) this.fail(element.name, "markup declaration not allowed inside an element");
      else element.children.push(this.element());
    }
  }

  private name(context: string): string {
    const start = this.pos;
    if (!NAME_START.test(this.src[this.pos] ?? "")) this.fail(context, this.pos >= this.src.length ? "file ends where a name was expected (truncated)" : `name expected, found "${this.src[this.pos]}"`);
    this.pos++;
    while (this.pos < this.src.length && NAME_CHAR.test(this.src[this.pos]!)) this.pos++;
    return this.src.slice(start, this.pos);
  }

  /** Replaces entity and character references; anything else is an error (no DTD means no other entities). */
  private decode(raw: string, context: string): string {
    if (!raw.includes("&")) return raw;
    return raw.replace(/&([^;&\s]*);?/g, (whole, ref: string) => {
      if (!whole.endsWith(";")) this.fail(context, `unterminated reference "${whole}"`);
      const predefined = PREDEFINED[ref];
      if (predefined !== undefined) return predefined;
      const m = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(ref);
      if (m) {
        const code = m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2]);
        if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) this.fail(context, `character reference &${ref}; is not a character`);
        return String.fromCodePoint(code);
      }
      return this.fail(context, `undefined entity &${ref}; (only &lt; &gt; &amp; &quot; &apos; and character references are read)`);
    });
  }

  private skipSpace(): boolean {
    const start = this.pos;
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (c === "\n") this.line++;
      else if (c !== " " && c !== "\t" && c !== "\r") break;
      this.pos++;
    }
    return this.pos > start;
  }

  private skipPast(terminator: string, what: string): void {
    const end = this.src.indexOf(terminator, this.pos);
    if (end < 0) this.fail(this.open.at(-1)?.name ?? "document", `file ends inside a ${what} (truncated)`);
    this.advanceTo(end + terminator.length);
  }

  /** Moves to `end`, counting the newlines passed. */
  private advanceTo(end: number): void {
    for (let i = this.pos; i < end; i++) if (this.src.charCodeAt(i) === 10) this.line++;
    this.pos = end;
  }

  private fail(element: string, reason: string): never {
    throw tagFileError({ file: this.file, line: this.line, element }, reason);
  }
}

/** The children of `parent` with the given local name. */
export function childrenNamed(parent: XmlElement, local: string): XmlElement[] {
  return parent.children.filter((c) => c.local === local);
}

/** The first child with the given local name, if any. */
export function childNamed(parent: XmlElement, local: string): XmlElement | undefined {
  return parent.children.find((c) => c.local === local);
}
