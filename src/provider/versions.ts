// The Kubernetes versions a provider can bootstrap. The API server cannot refuse a version outside
// them: the version is on the ControlPlane and the MachineDeployment, the provider on the Cluster.
// The controllers say it at once instead, as Stalled with the range and the fix.

/** The oldest minor release a provider bootstraps, and why no older one. */
export interface VersionRange {
  /** `v1.31`: this minor release and every newer one. */
  oldest: `v1.${number}`;
  why: string;
}

const minorOf = (version: string): number => Number(/^v1\.(\d+)\./.exec(version)?.[1] ?? Number.NaN);

/**
 * The sentence that refuses `version` (the value of `field`) for the provider `name` with `range`,
 * or undefined when the version is in it. The version may not jump minor releases (the CRD's rule),
 * so the fix is a new object, not an edit.
 */
export function unsupportedVersion(
  name: string,
  range: VersionRange | undefined,
  field: string,
  version: string,
): string | undefined {
  if (!range || !(minorOf(version) < minorOf(`${range.oldest}.0`))) return undefined;
  return `${field} ${version} is older than the ${name} provider supports: ${range.oldest}.0 and newer (${range.why}); delete this object and create it again with ${field} ${range.oldest}.0 or newer (the version cannot jump minor releases)`;
}
