// The operator image as `make image` writes it (hack/operator-image.sh: an OCI archive and its ref),
// and the same content under another name, for a node that must hold a "newer" image to upgrade to.
import { execFile } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface OperatorImage {
  /** The OCI archive, for a kubelet worker to import (LOCAL_NODE_IMAGES). */
  archive: string;
  /** The name it imports as. */
  ref: string;
}

/** `make -s image` as a user runs it: cached by content, so seconds when nothing changed. */
export async function buildOperatorImage(): Promise<OperatorImage> {
  const { stdout } = await run('make', ['-s', 'image'], { timeout: 600_000, maxBuffer: 1 << 24 });
  const archive = stdout.trim().split('\n').at(-1) as string;
  const ref = (await readFile(archive.replace(/\.tar$/, '.ref'), 'utf8')).trim();
  return { archive, ref };
}

/**
 * A copy of the archive in `dir` that imports as `ref`: only index.json differs (the name annotations
 * containerd's import reads); the manifest, config and layers are the same blobs.
 */
export async function retagImage(image: OperatorImage, ref: string, dir: string): Promise<OperatorImage> {
  const archive = join(dir, 'retagged.tar');
  await copyFile(image.archive, archive);
  const index = JSON.parse((await run('tar', ['-xOf', archive, 'index.json'])).stdout);
  for (const m of index.manifests) {
    m.annotations = {
      ...m.annotations,
      'io.containerd.image.name': ref,
      'org.opencontainers.image.ref.name': ref,
    };
  }
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
  await run('tar', ['--delete', '-f', archive, 'index.json']);
  await run('tar', ['--owner=0', '--group=0', '--format=ustar', '-rf', archive, '-C', dir, 'index.json']);
  return { archive, ref };
}
