// The operator's image lookup settings from its environment (CLUSTERFORGE_AWS_IMAGE_OWNERS, ..._NAME_FORMAT).
import { describe, expect, it } from 'vitest';
import { imageLookupFromEnv } from '../../../providers/aws-ec2/services/images.js';

describe('imageLookupFromEnv', () => {
  it('is empty when nothing is set (CAPA’s owners and name format apply)', () => {
    expect(imageLookupFromEnv({})).toEqual({});
  });

  it('reads comma-separated owners and a name format', () => {
    expect(
      imageLookupFromEnv({
        CLUSTERFORGE_AWS_IMAGE_OWNERS: '123456789012, self',
        CLUSTERFORGE_AWS_IMAGE_NAME_FORMAT: 'my-ami-{version}-*',
      }),
    ).toEqual({ owners: ['123456789012', 'self'], nameFormat: 'my-ami-{version}-*' });
  });

  it('refuses a malformed owner or a format without {version}, naming the variable', () => {
    expect(() => imageLookupFromEnv({ CLUSTERFORGE_AWS_IMAGE_OWNERS: '12345,self' })).toThrow(
      /CLUSTERFORGE_AWS_IMAGE_OWNERS: '12345'/,
    );
    expect(() => imageLookupFromEnv({ CLUSTERFORGE_AWS_IMAGE_NAME_FORMAT: 'my-ami-*' })).toThrow(
      /CLUSTERFORGE_AWS_IMAGE_NAME_FORMAT/,
    );
  });
});
