/**
 * One CertificateStore per folder in a process: connections and cert-trust
 * nodes naming the same folder share its watcher and see each other's
 * changes. Released stores close when nobody uses them any more.
 */
import * as path from "node:path";
import { CertificateStore, type StoreOptions } from "./store.js";

const stores = new Map<string, { store: CertificateStore; users: number }>();

export function acquireStore(dir: string, options: StoreOptions = {}): CertificateStore {
  const key = path.resolve(dir);
  let entry = stores.get(key);
  if (entry === undefined) {
    const store = new CertificateStore(key, options);
    store.setMaxListeners(0);
    store.watch();
    entry = { store, users: 0 };
    stores.set(key, entry);
  }
  entry.users++;
  return entry.store;
}

export function releaseStore(store: CertificateStore): void {
  const entry = stores.get(store.dir);
  if (entry === undefined || entry.store !== store) return;
  entry.users--;
  if (entry.users <= 0) {
    stores.delete(store.dir);
    store.close();
  }
}

/** Stores currently open (for leak tests). */
export function openStoreCount(): number {
  return stores.size;
}
