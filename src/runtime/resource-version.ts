// Comparing resourceVersions. The API calls them opaque; every server we talk to (kube-apiserver over
// etcd) hands out etcd revisions, which grow. client-go's MutationCache compares them the same way, and
// falls back as we do: a version that is not a whole number is never called newer or older.

/** Whether `a` is a later version than `b`; undefined when either is missing or not a whole number. */
export function isNewer(a: string | undefined, b: string | undefined): boolean | undefined {
  const x = revision(a);
  const y = revision(b);
  if (x === undefined || y === undefined) return undefined;
  return x > y;
}

function revision(rv: string | undefined): bigint | undefined {
  if (!rv || !/^[0-9]{1,20}$/.test(rv)) return undefined;
  return BigInt(rv);
}
