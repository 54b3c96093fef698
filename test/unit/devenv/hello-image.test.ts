// `dev up` needs the hello image before it starts anything: missing, the error says how to build it;
// present, it is what the workers load and the Deployment names.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { helloImage } from '../../../src/devenv/demo-workload.js';

const dirs: string[] = [];
const folder = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-hello-image-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the demo's hello image", () => {
  it('missing from CLUSTERFORGE_NODE_IMAGES: the error names make node-images', async () => {
    const dir = folder();
    await expect(helloImage({ CLUSTERFORGE_NODE_IMAGES: dir })).rejects.toThrow(
      new RegExp(`no hello.tar and hello.ref in CLUSTERFORGE_NODE_IMAGES=${dir}; run make node-images`),
    );
  });

  it('missing from the cache: the error names make node-images once', async () => {
    const cache = folder();
    const err = await helloImage({ CLUSTERFORGE_CACHE: cache }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message.match(/make node-images/g)).toHaveLength(1);
  });

  it('built: its archive and the name it imports as', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'hello.tar'), 'archive');
    writeFileSync(join(dir, 'hello.ref'), 'clusterforge.dev/hello:abc\n');
    expect(await helloImage({ CLUSTERFORGE_NODE_IMAGES: dir })).toEqual({
      archive: join(dir, 'hello.tar'),
      ref: 'clusterforge.dev/hello:abc',
    });
  });
});
