// The version floor of a provider: its oldest minor and everything newer pass, anything older is
// refused with the field, the range and the fix.
import { describe, expect, it } from 'vitest';
import { unsupportedVersion, type VersionRange } from '../../../src/provider/versions.js';

const range: VersionRange = { oldest: 'v1.31', why: 'kubeadm v1beta4' };

describe('unsupportedVersion', () => {
  it('passes the oldest minor and newer ones, and every version without a range', () => {
    for (const v of ['v1.31.0', 'v1.31.9', 'v1.37.2', 'v1.100.0'])
      expect(unsupportedVersion('aws-ec2', range, 'spec.version', v)).toBeUndefined();
    expect(unsupportedVersion('inmemory', undefined, 'spec.version', 'v1.0.0')).toBeUndefined();
  });

  it('refuses an older minor with the range and the fix', () => {
    expect(unsupportedVersion('aws-ec2', range, 'spec.version', 'v1.30.14')).toBe(
      'spec.version v1.30.14 is older than the aws-ec2 provider supports: v1.31.0 and newer (kubeadm v1beta4); delete this object and create it again with spec.version v1.31.0 or newer (the version cannot jump minor releases)',
    );
    expect(unsupportedVersion('aws-ec2', range, 'spec.version', 'v1.3.0')).toContain('older');
  });
});
