// The images a kubelet worker starts with, since it can pull from no registry: the sandbox
// ("pause") image that `make node-images` (hack/node-images.sh) builds, and the archives its
// MachineTemplate lists. $CLUSTERFORGE_NODE_IMAGES names the folder of the built images; without
// it, the newest build in the cache is used.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { buildCommand } from '../../../src/package/root.js';
import { kubeCacheRoot } from '../binaries.js';

export interface NodeImage {
  archive: string;
  /** The name it imports as (clusterforge.dev/pause:<tag>). */
  ref: string;
}

export type ImageLookup = { found: true; image: NodeImage } | { found: false; message: string };

async function imageIn(dir: string, name: string): Promise<NodeImage | undefined> {
  try {
    const ref = (await readFile(join(dir, `${name}.ref`), 'utf8')).trim();
    const archive = join(dir, `${name}.tar`);
    await stat(archive);
    return ref ? { archive, ref } : undefined;
  } catch {
    return undefined;
  }
}

/** The folder builds go to: beside the Kubernetes binaries' cache, as hack/node-images.sh puts them. */
export const imagesCacheRoot = (env: NodeJS.ProcessEnv) => join(kubeCacheRoot(env), '..', 'images');

/** A built image by name (pause, hello): from $CLUSTERFORGE_NODE_IMAGES, else the newest build. */
export async function builtImage(name: string, env: NodeJS.ProcessEnv = process.env): Promise<ImageLookup> {
  if (env.CLUSTERFORGE_NODE_IMAGES) {
    const image = await imageIn(env.CLUSTERFORGE_NODE_IMAGES, name);
    if (image) return { found: true, image };
    return {
      found: false,
      message: `no ${name}.tar and ${name}.ref in CLUSTERFORGE_NODE_IMAGES=${env.CLUSTERFORGE_NODE_IMAGES}`,
    };
  }
  const root = imagesCacheRoot(env);
  const builds = await readdir(root).catch(() => [] as string[]);
  const candidates: { image: NodeImage; mtime: number }[] = [];
  for (const build of builds) {
    const image = await imageIn(join(root, build), name);
    if (image) candidates.push({ image, mtime: (await stat(image.archive)).mtimeMs });
  }
  candidates.sort((a, b) => b.mtime - a.mtime);
  const newest = candidates[0];
  if (newest) return { found: true, image: newest.image };
  return { found: false, message: `no ${name} image in ${root}; run ${buildCommand('node-images')}` };
}
