/**
 * pkijs and asn1js are ES modules; this loads them once with a real dynamic
 * import (kept as `import()` in the compiled CommonJS).
 */
type Pkijs = typeof import("pkijs");
type Asn1js = typeof import("asn1js");

let loaded: Promise<{ pkijs: Pkijs; asn1js: Asn1js }> | undefined;

export function loadPkijs(): Promise<{ pkijs: Pkijs; asn1js: Asn1js }> {
  loaded ??= Promise.all([import("pkijs"), import("asn1js")]).then(([pkijs, asn1js]) => ({ pkijs, asn1js }));
  return loaded;
}
