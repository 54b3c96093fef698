// The machine image: the template's AMI by ID, else one looked up for the Kubernetes version by name
// (Cluster API Provider AWS's convention: capa-ami-<os>-<version>-*), newest first.
import { DescribeImagesCommand, type EC2Client, type Image } from '@aws-sdk/client-ec2';
import { ProviderFailure, unlessNotFound } from '../../aws-common/errors.js';

export interface ImageLookupOptions {
  /** Accounts whose images are trusted. Default: the account Cluster API Provider AWS publishes from. */
  owners?: string[];
  /** The image name pattern; `{version}` is the Kubernetes version (v1.31.2). */
  nameFormat?: string;
}

export const DEFAULT_IMAGE_OWNERS = ['258751437250'];
export const DEFAULT_IMAGE_NAME_FORMAT = 'capa-ami-ubuntu-24.04-{version}-*';

export interface ResolvedImage {
  id: string;
  rootDeviceName: string;
}

const CACHE_MS = 60 * 60 * 1000;

/** The operator's environment variables that set ImageLookupOptions (documented in docs/providers/aws.md). */
export const IMAGE_OWNERS_ENV = 'CLUSTERFORGE_AWS_IMAGE_OWNERS';
export const IMAGE_NAME_FORMAT_ENV = 'CLUSTERFORGE_AWS_IMAGE_NAME_FORMAT';

/**
 * ImageLookupOptions from the operator's environment: `CLUSTERFORGE_AWS_IMAGE_OWNERS` (account IDs,
 * or `self` / `amazon` / `aws-marketplace`, comma-separated) and `CLUSTERFORGE_AWS_IMAGE_NAME_FORMAT`
 * (with `{version}`). Unset: CAPA's defaults. A malformed value throws, naming the variable.
 */
export function imageLookupFromEnv(env: NodeJS.ProcessEnv = process.env): ImageLookupOptions {
  const opts: ImageLookupOptions = {};
  const owners = env[IMAGE_OWNERS_ENV]?.trim();
  if (owners) {
    const list = owners.split(',').map((o) => o.trim());
    const bad = list.find((o) => !/^(\d{12}|self|amazon|aws-marketplace)$/.test(o));
    if (bad !== undefined) {
      throw new Error(
        `${IMAGE_OWNERS_ENV}: '${bad}' is not a 12-digit AWS account ID, self, amazon or aws-marketplace`,
      );
    }
    opts.owners = list;
  }
  const nameFormat = env[IMAGE_NAME_FORMAT_ENV]?.trim();
  if (nameFormat) {
    if (!nameFormat.includes('{version}')) {
      throw new Error(`${IMAGE_NAME_FORMAT_ENV}: '${nameFormat}' must contain {version}`);
    }
    opts.nameFormat = nameFormat;
  }
  return opts;
}

/** Graviton families (m7g, c6gn, t4g, ...) run arm64 images. */
export function architectureOf(instanceType: string): 'arm64' | 'x86_64' {
  return /^[a-z]+\d+g[a-z]*\./.test(instanceType) ? 'arm64' : 'x86_64';
}

export class ImageResolver {
  private readonly cache = new Map<string, { at: number; image: ResolvedImage }>();

  constructor(private readonly opts: ImageLookupOptions = {}) {}

  async resolve(
    ec2: EC2Client,
    region: string,
    wanted: { id?: string; version: string; instanceType: string },
  ): Promise<ResolvedImage> {
    const arch = architectureOf(wanted.instanceType);
    const key = wanted.id ? `${region}/${wanted.id}` : `${region}/${wanted.version}/${arch}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.image;
    const image = wanted.id
      ? await this.byId(ec2, region, wanted.id)
      : await this.byVersion(ec2, region, wanted.version, arch);
    const resolved = { id: image.ImageId as string, rootDeviceName: image.RootDeviceName ?? '/dev/sda1' };
    this.cache.set(key, { at: Date.now(), image: resolved });
    return resolved;
  }

  private async byId(ec2: EC2Client, region: string, id: string): Promise<Image> {
    const out = await unlessNotFound(ec2.send(new DescribeImagesCommand({ ImageIds: [id] })));
    const image = out?.Images?.[0];
    if (!image) {
      throw new ProviderFailure(
        'ImageNotFound',
        `MachineTemplate spec.template.spec.awsEC2.ami.id: ${id} does not exist in ${region}`,
      );
    }
    return image;
  }

  private async byVersion(ec2: EC2Client, region: string, version: string, arch: string): Promise<Image> {
    const owners = this.opts.owners ?? DEFAULT_IMAGE_OWNERS;
    const name = (this.opts.nameFormat ?? DEFAULT_IMAGE_NAME_FORMAT).replaceAll('{version}', version);
    const out = await ec2.send(
      new DescribeImagesCommand({
        Owners: owners,
        Filters: [
          { Name: 'name', Values: [name] },
          { Name: 'architecture', Values: [arch] },
          { Name: 'state', Values: ['available'] },
        ],
      }),
    );
    const newest = [...(out.Images ?? [])].sort((a, b) =>
      (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''),
    )[0];
    if (!newest?.ImageId) {
      throw new ProviderFailure(
        'ImageNotFound',
        `no ${arch} image named ${name} owned by ${owners.join(', ')} in ${region}; set spec.template.spec.awsEC2.ami.id in the MachineTemplate`,
      );
    }
    return newest;
  }
}
