// A JSON merge patch (RFC 7386) that turns `before` into `after`: absent keys become null.
//
// Values are compared as JSON values: key order does not matter (the API server answers with its own
// order, e.g. of a condition's fields) and a key whose value is undefined counts as absent, as it does
// once serialized. Arrays are replaced whole (merge patch has no finer way), only when they differ.
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether `a` and `b` serialize to the same JSON, up to the order of object keys. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keysA = Object.keys(a).filter((k) => a[k] !== undefined);
  const keysB = Object.keys(b).filter((k) => b[k] !== undefined);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((k) => b[k] !== undefined && jsonEqual(a[k], b[k]));
}

export function mergePatchOf(before: unknown, after: unknown): Json | undefined {
  if (!isObject(before) || !isObject(after)) {
    return jsonEqual(before, after) ? undefined : (after as Json);
  }
  const patch: Record<string, Json> = {};
  for (const key of Object.keys(before)) {
    if (before[key] !== undefined && (!(key in after) || after[key] === undefined)) patch[key] = null;
  }
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    const sub = mergePatchOf(before[key], value);
    if (sub !== undefined) patch[key] = sub;
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}
