import { strict as assert } from "node:assert";
import { ConfigError } from "../../../src/errors.js";
import { childNamed, decodeXmlBytes, parseXml } from "../../../src/tags/tia/xml.js";

function refused(xml: string, expected: RegExp, limits?: { maxChars: number; maxDepth: number }): void {
  assert.throws(
    () => parseXml(xml, "in.xml", limits),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.file, "in.xml");
      assert.match(err.message, expected);
      return true;
    },
  );
}

describe("XML reader of engineering files", () => {
  it("reads elements, attributes in both quotes, text, CDATA, comments and the declaration, with lines", () => {
    const root = parseXml(
      "\uFEFF<?xml version='1.0' encoding='utf-8'?>\n<!-- head -->\n<r:Root xmlns:r='urn:x' a=\"1\" b='x &amp; &quot;y&quot; &#65;&#x42;'>\n  <Item>one<!-- c --> <![CDATA[<two> & ]]>three</Item>\n  <?pi data?>\n  <Empty\n    k='v'/>\n</r:Root>\n<!-- tail -->\n",
      "in.xml",
    );
    assert.equal(root.name, "r:Root");
    assert.equal(root.local, "Root");
    assert.equal(root.line, 3);
    assert.deepEqual([...root.attributes], [["xmlns:r", "urn:x"], ["a", "1"], ["b", 'x & "y" AB']]);
    const item = childNamed(root, "Item")!;
    assert.equal(item.text, "one <two> & three");
    assert.equal(item.line, 4);
    const empty = childNamed(root, "Empty")!;
    assert.equal(empty.line, 6);
    assert.equal(empty.attributes.get("k"), "v");
    assert.deepEqual(empty.children, []);
  });

  it("refuses a DOCTYPE, so neither entity expansion nor external entities can happen", () => {
    const laughs = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n <!ENTITY lol2 "&lol;&lol;&lol;&lol;">\n]>\n<lolz>&lol2;</lolz>`;
    refused(laughs, /^in\.xml:2: <!DOCTYPE>: a DOCTYPE is refused/);
    refused(`<!DOCTYPE r SYSTEM "file:///etc/passwd">\n<r/>`, /^in\.xml:1: <!DOCTYPE>: a DOCTYPE is refused/);
  });

  it("refuses entities that are not predefined and broken references", () => {
    refused("<r>\n<a>&xxe;</a></r>", /^in\.xml:2: <a>: undefined entity &xxe;/);
    refused("<r a='&#0;'/>", /^in\.xml:1: <r>: character reference &#0; is not a character/);
    refused("<r>a & b</r>", /^in\.xml:1: <r>: unterminated reference/);
  });

  it("names the element and line of structural errors", () => {
    refused("", /^in\.xml:1: <document>: empty file, not XML$/);
    refused("PK\u0003\u0004 binary", /^in\.xml:1: <document>: not XML: no root element$/);
    refused("<a>\n<b>\n</a>", /^in\.xml:3: <b>: <\/a> closes <b> \(opened on line 2\)$/);
    refused("<a>\n<b>text", /^in\.xml:2: <b>: file ends before <\/b> \(truncated\)$/);
    refused("<a>\n<b x='1", /^in\.xml:2: <b>: attribute x: file ends inside the value \(truncated\)$/);
    refused("<a x='1' x='2'/>", /^in\.xml:1: <a>: attribute x given twice$/);
    refused("<a x=1/>", /^in\.xml:1: <a>: attribute x: value must be quoted$/);
    refused("<a/>\n<b/>", /^in\.xml:2: <a>: content after the root element$/);
    refused("<a><!-- open", /^in\.xml:1: <a>: file ends inside a comment \(truncated\)$/);
  });

  it("caps input size and nesting depth", () => {
    refused("<a>" + "x".repeat(100) + "</a>", /^in\.xml: <document>: file too large \(107 characters, at most 50\)$/, { maxChars: 50, maxDepth: 10 });
    refused("<a>".repeat(11) + "</a>".repeat(11), /^in\.xml:1: <a>: elements nested deeper than 10$/, { maxChars: 1000, maxDepth: 10 });
    assert.equal(parseXml("<a>".repeat(10) + "</a>".repeat(10), "in.xml", { maxChars: 1000, maxDepth: 10 }).name, "a");
  });

  it("decodes UTF-8 and refuses UTF-16 by name", () => {
    assert.equal(decodeXmlBytes(Buffer.from("\uFEFF<a>ä</a>", "utf8"), "in.xml"), "<a>ä</a>");
    assert.throws(() => decodeXmlBytes(Buffer.from([0xff, 0xfe, 0x3c, 0x00]), "in.xml"), /^ConfigError: in\.xml:1: <document>: UTF-16 files are not read/);
  });
});
