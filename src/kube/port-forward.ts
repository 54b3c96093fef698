// One TCP connection to a pod's port through the Kubernetes API (`pods/portforward`), as a Duplex:
// what `kubectl port-forward` does for each connection it accepts, without a listening socket. It
// speaks the API server's WebSocket port-forward protocol (v4.channel.k8s.io; the kubelet answers
// it) through client-node's PortForward, so the workload cluster's port is never opened to the
// network: only its API server is reached, with the caller's credentials.
import { Duplex, PassThrough, Writable } from 'node:stream';
import { type KubeConfig, PortForward } from '@kubernetes/client-node';
import type { KubeConfigSource } from '../runtime/kubeconfig-source.js';

export interface PortForwardTarget {
  namespace: string;
  pod: string;
  port: number;
}

/** Opens the stream; rejects when the API server refuses (no such pod, forbidden) or does not answer. */
export async function portForwardStream(
  kubeConfig: KubeConfigSource,
  target: PortForwardTarget,
  timeoutMs = 10_000,
): Promise<Duplex> {
  const input = new PassThrough();
  let stream: Duplex | undefined;
  const pending: Buffer[] = [];
  const output = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (stream) stream.push(chunk);
      else pending.push(chunk);
      cb();
    },
  });
  // The error channel: the kubelet says there why the pod's port could not be reached.
  let failure: Error | undefined;
  const errors = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = chunk.toString('utf8').trim();
      if (text) {
        failure = new Error(`port-forward to ${target.namespace}/${target.pod}:${target.port}: ${text}`);
        stream?.destroy(failure);
      }
      cb();
    },
  });
  // WebSocketHandler reads only getCurrentCluster and applyToHTTPSOptions of the KubeConfig.
  const forward = new PortForward(kubeConfig as KubeConfig, true);
  let timer: NodeJS.Timeout | undefined;
  const opening = forward.portForward(target.namespace, target.pod, [target.port], output, errors, input);
  let ws: Awaited<typeof opening>;
  try {
    ws = await Promise.race([
      opening,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`port-forward to ${target.namespace}/${target.pod}: no answer in ${timeoutMs} ms`),
            ),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    // A connection that opens after the deadline is closed, never left behind.
    opening.then(
      (late) => (late as { close?(): void }).close?.(),
      () => undefined,
    );
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const socket = ws as { close(): void; on?(event: string, fn: (...a: unknown[]) => void): void };
  stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      input.write(chunk, cb);
    },
    final(cb) {
      input.end();
      cb();
    },
    destroy(err, cb) {
      input.destroy();
      socket.close();
      cb(err);
    },
  });
  for (const chunk of pending.splice(0)) stream.push(chunk);
  if (failure) stream.destroy(failure);
  socket.on?.('close', () => stream?.push(null));
  socket.on?.('error', (err) => stream?.destroy(err as Error));
  return stream;
}
