/** Locates files under test/fixtures from the compiled test (dist/test/...). */
import * as fs from "node:fs";
import * as path from "node:path";

export const FIXTURES_DIR = path.resolve(__dirname, "..", "..", "..", "test", "fixtures");

export function fixturePath(...parts: string[]): string {
  return path.join(FIXTURES_DIR, ...parts);
}

export function readFixtureJson<T>(...parts: string[]): T {
  return JSON.parse(fs.readFileSync(fixturePath(...parts), "utf8")) as T;
}
