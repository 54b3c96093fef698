// A worker machine's heart-beats: what a kubelet would do for its Node, and nothing else (no pods
// run). It renews the Node's Lease in kube-node-lease and refreshes the Ready condition's
// lastHeartbeatTime, every intervalSeconds, as the node itself (CN system:node:<name>).
//
//   node heartbeat-process.mjs <heartbeat.json>
//
// heartbeat.json: { server, nodeName, caFile, certFile, keyFile, intervalSeconds, leaseDurationSeconds }.
// It runs detached from the operator and outlives it; errors are logged and retried at the next beat.
// It exits when its config file is gone (the machine's state folder was removed).
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node heartbeat-process.mjs <heartbeat.json>');
  process.exit(2);
}

const log = (msg, fields = {}) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);

const config = JSON.parse(readFileSync(configPath, 'utf8'));
const tls = {
  ca: readFileSync(config.caFile),
  cert: readFileSync(config.certFile),
  key: readFileSync(config.keyFile),
};
const node = config.nodeName;
const intervalMs = Math.max(1, Number(config.intervalSeconds) || 10) * 1000;
const leaseDurationSeconds = Number(config.leaseDurationSeconds) || 40;
const leasePath = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}`;

/** A metav1.MicroTime: RFC 3339 with microseconds. */
const microTime = (date) => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

function call(method, path, body, contentType = 'application/json') {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, config.server),
      {
        method,
        ...tls,
        agent: false,
        timeout: 5_000,
        headers: payload ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out: ${method} ${path}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function renewLease(now) {
  const spec = { holderIdentity: node, leaseDurationSeconds, renewTime: microTime(now) };
  const patched = await call('PATCH', leasePath, { spec }, 'application/merge-patch+json');
  if (patched.status === 200) return;
  if (patched.status !== 404)
    throw new Error(`renewing the lease: HTTP ${patched.status} ${patched.text.slice(0, 200)}`);
  const got = await call('GET', `/api/v1/nodes/${node}`);
  if (got.status !== 200) throw new Error(`reading the node: HTTP ${got.status}`);
  const created = await call('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: node,
      namespace: 'kube-node-lease',
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node, uid: got.json?.metadata?.uid }],
    },
    spec: { ...spec, acquireTime: microTime(now) },
  });
  if (created.status !== 201 && created.status !== 409) {
    throw new Error(`creating the lease: HTTP ${created.status} ${created.text.slice(0, 200)}`);
  }
  log('lease created', { node });
}

async function reportReady(now) {
  const condition = {
    type: 'Ready',
    status: 'True',
    reason: 'ClusterforgeHeartbeat',
    message: 'registered by the clusterforge local provider; heart-beats only, no kubelet runs',
    lastHeartbeatTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  const res = await call(
    'PATCH',
    `/api/v1/nodes/${node}/status`,
    { status: { conditions: [condition] } },
    'application/strategic-merge-patch+json',
  );
  if (res.status !== 200)
    throw new Error(`updating the node status: HTTP ${res.status} ${res.text.slice(0, 200)}`);
}

let failing = false;
async function beat() {
  if (!existsSync(configPath)) {
    // The machine's folder is gone: nobody owns this process any more.
    log('config file gone; the machine was removed: exiting', { configPath });
    process.exit(0);
  }
  const now = new Date();
  try {
    await renewLease(now);
    await reportReady(now);
    if (failing) log('heart-beats resumed', { node });
    failing = false;
  } catch (err) {
    if (!failing) log('heart-beat failed', { node, err: String(err?.message ?? err) });
    failing = true;
  }
}

log('started', { node, intervalSeconds: intervalMs / 1000 });
beat();
setInterval(beat, intervalMs);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    log('stopping', { signal });
    process.exit(0);
  });
}
