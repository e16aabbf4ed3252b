/**
 * Stores `value` under `key` in a memo that holds at most `maxEntries`
 * entries, dropping the oldest first (a Map keeps insertion order), and
 * returns the value.
 */
export function rememberBounded<K, V>(memo: Map<K, V>, key: K, value: V, maxEntries: number): V {
  if (memo.size >= maxEntries) memo.delete(memo.keys().next().value as K);
  memo.set(key, value);
  return value;
}
