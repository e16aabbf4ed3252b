/**
 * Element LIDs of Bool arrays (issue 21 point 5): the vectors of
 * test/fixtures/vectors/bool-array-lids.json (see its "source"), the shared
 * rule, the client's resolution and the simulator's answer over 127.0.0.1.
 */
import { strict as assert } from "node:assert";
import type { ControllerSession } from "../../src/client/controller-session.js";
import { SymbolTable } from "../../src/tags/symbols.js";
import { parseTagName } from "../../src/tags/tag-name.js";
import { arrayElementLid, arrayElementPosition } from "../../src/protocol/array-lid.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { parsePlcTypeName, type ArrayType } from "../../src/values/plc-type.js";
import { readFixtureJson } from "../../scripts/support/fixtures.js";
import { openSession } from "./open-session.js";

interface LidVectors {
  source: string;
  cases: { type: string; elements: [number[], number][] }[];
}
const V = readFixtureJson<LidVectors>("vectors", "bool-array-lids.json");

function isBool(t: ArrayType): boolean {
  return t.element.kind === "elementary" && t.element.name === "Bool";
}

describe("Bool array element LIDs (padded like the validated drivers)", function () {
  this.timeout(30_000);

  for (const c of V.cases) {
    it(`${c.type}: every element's LID, and back`, () => {
      const t = parsePlcTypeName(c.type) as ArrayType;
      const used = new Set<number>();
      c.elements.forEach(([subscripts, lid], position) => {
        const offsets = subscripts.map((s, d) => s - t.dimensions[d]!.lower);
        assert.equal(arrayElementLid(t.dimensions, offsets, isBool(t)), lid, `${c.type} [${subscripts.join(",")}]`);
        assert.equal(arrayElementPosition(t.dimensions, lid, isBool(t)), position);
        used.add(lid);
      });
      // Every LID that names no element (a padding gap, or past the end) is refused.
      const last = c.elements[c.elements.length - 1]![1];
      for (let lid = 0; lid <= last + 8; lid++) if (!used.has(lid)) assert.equal(arrayElementPosition(t.dimensions, lid, isBool(t)), undefined, `LID ${lid}`);
    });
  }

  describe("client and simulator", () => {
    let sim: Simulator;
    let s: ControllerSession;
    before(async () => {
      sim = await Simulator.start({
        name: "PLC_BOOLS",
        host: "127.0.0.1",
        port: 0,
        dataBlocks: [
          {
            name: "Grid",
            number: 3,
            members: [
              { name: "Flags", type: "Array[0..1, 0..2] of Bool" },
              { name: "Cube", type: "Array[1..2, -1..0, 0..8] of Bool" },
              { name: "Words", type: "Array[0..1, 0..2] of Int" },
            ],
          },
        ],
      });
      s = await openSession(sim);
    });
    after(async () => {
      await s?.close();
      await sim?.stop();
    });

    it("the client addresses Flags[1,0] with LID 8 and Cube[2,0,8] with LID 56; Words[1,0] stays 3", async () => {
      const symbols = new SymbolTable(s.session);
      const lastLid = async (tag: string): Promise<number> => {
        const parsed = parseTagName(tag);
        assert.equal(parsed.kind, "symbolic");
        if (parsed.kind !== "symbolic") throw new Error("unreachable");
        const lids = (await symbols.resolve(parsed)).address.lids;
        return lids[lids.length - 1]!;
      };
      assert.equal(await lastLid("Grid.Flags[1,0]"), 8);
      assert.equal(await lastLid("Grid.Cube[2,0,8]"), 56);
      assert.equal(await lastLid("Grid.Words[1,0]"), 3);
    });

    it("writes and reads hit the named element of 2- and 3-dimensional Bool arrays", async () => {
      const written = await s.write([
        { tag: "Grid.Flags[1,0]", value: true },
        { tag: "Grid.Cube[2,-1,8]", value: true },
      ]);
      assert.deepEqual(written.map((w) => w.ok), [true, true]);
      assert.deepEqual(sim.getValue("Grid.Flags"), [[false, false, false], [true, false, false]]);
      const cube = sim.getValue("Grid.Cube") as boolean[][][];
      assert.equal(cube[1]![0]![8], true);
      assert.equal(cube.flat(2).filter(Boolean).length, 1);
      sim.setValue("Grid.Flags", [[false, false, true], [false, true, false]]);
      const read = await s.read(["Grid.Flags[0,2]", "Grid.Flags[1,1]", "Grid.Flags[1,0]", "Grid.Flags[0,0]"]);
      assert.deepEqual(read.map((r) => (r.ok ? r.value : r.error)), [true, true, false, false]);
    });
  });
});
