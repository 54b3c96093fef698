// An image with the etcd binary the harness built (hack/kube-assets.sh), for etcd pods on a kubelet
// node: a one-layer OCI archive made the way hack/node-images.sh makes pause and hello (GNU tar,
// gzip, sha256; nothing pulled), with the shared libraries `ldd` names beside it in case the binary
// is not static. Cached beside the node images by the binary's digest.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { NodeImage } from '../../providers/local/kubelet/images.js';
import { imagesCacheRoot } from '../../providers/local/kubelet/images.js';

const run = promisify(execFile);
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** The shared libraries the binary loads (none for a static one). */
async function libraries(binary: string): Promise<string[]> {
  const out = await run('ldd', [binary]).then(
    (r) => r.stdout,
    () => '',
  );
  return [...out.matchAll(/(\/\S+)\s+\(0x/g)].map((m) => m[1] as string);
}

export async function etcdImage(etcdBinary: string): Promise<NodeImage> {
  const tag = sha256(await readFile(etcdBinary)).slice(0, 12);
  const dir = join(imagesCacheRoot(process.env), `etcd-${tag}`);
  const ref = `clusterforge.dev/etcd:${tag}`;
  const archive = join(dir, 'etcd.tar');
  if (
    await stat(archive).then(
      () => true,
      () => false,
    )
  )
    return { archive, ref };
  const work = await mkdtemp(join(tmpdir(), 'cf-etcd-image-'));
  try {
    const root = join(work, 'rootfs');
    await mkdir(root, { recursive: true });
    await copyFile(etcdBinary, join(root, 'etcd'));
    for (const lib of await libraries(etcdBinary)) {
      await mkdir(join(root, dirname(lib)), { recursive: true });
      await copyFile(lib, join(root, lib));
    }
    const det = ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=gnu'];
    await run('tar', [...det, '-C', root, '-cf', join(work, 'layer.tar'), '.']);
    const layerTar = await readFile(join(work, 'layer.tar'));
    await run('gzip', ['-n', '-6', join(work, 'layer.tar')]);
    const layer = await readFile(join(work, 'layer.tar.gz'));
    const blobs = join(work, 'layout', 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const blob = async (data: Buffer | string) => {
      const digest = sha256(data);
      await writeFile(join(blobs, digest), data);
      return { digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
    };
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    const config = JSON.stringify({
      architecture: arch,
      os: 'linux',
      config: { User: '0:0', Entrypoint: ['/etcd'], WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layerTar)}`] },
    });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...(await blob(config)) },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...(await blob(layer)) }],
    });
    const m = await blob(manifest);
    await writeFile(join(work, 'layout', 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(
      join(work, 'layout', 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            ...m,
            platform: { architecture: arch, os: 'linux' },
            annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': ref },
          },
        ],
      }),
    );
    await run('tar', [
      ...det,
      '-C',
      join(work, 'layout'),
      '-cf',
      join(work, 'etcd.tar'),
      'oci-layout',
      'index.json',
      'blobs',
    ]);
    await mkdir(dir, { recursive: true });
    // The cache may be on another file system than the temporary folder: copy, then rename in place.
    await copyFile(join(work, 'etcd.tar'), `${archive}.partial`);
    await rename(`${archive}.partial`, archive);
    return { archive, ref };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
