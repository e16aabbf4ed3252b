/** A fresh certificate store in a temporary folder for each test of a describe block. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CertificateStore, type StoreOptions } from "../../src/trust/store.js";

/** Registers beforeEach/afterEach; the returned function gives the current test's store. */
export function useTempStore(prefix: string, options: StoreOptions & { watch?: boolean } = {}): () => CertificateStore {
  let store: CertificateStore | undefined;
  beforeEach(async () => {
    store = new CertificateStore(fs.mkdtempSync(path.join(os.tmpdir(), prefix)), options);
    await store.ensureFolders();
    if (options.watch) store.watch();
  });
  afterEach(() => {
    store?.close();
    if (store) fs.rmSync(store.dir, { recursive: true, force: true });
    store = undefined;
  });
  return () => store!;
}
