// The local provider's load balancer: a loopback TCP proxy in front of a cluster's API servers, so
// that the cluster endpoint stays one address while control-plane machines come and go.
//
//   node lb-process.mjs <config.json>
//
// It runs detached from the operator and outlives it. The config file,
//   { "listen": { "host": "127.0.0.1", "port": 6443 }, "backends": [{ "name": "m1", "host": "127.0.0.1", "port": 41234 }] }
// is re-read when it changes (the operator rewrites it atomically); the listen address is read once.
// When the file has been gone for a few seconds (its cluster's state folder was removed), it exits.
// New connections go to the healthy backend with the fewest open connections (ties in turn); a
// backend that refuses a connection is marked down and the next one is tried; every backend is
// probed with a TCP connect every two seconds. TLS passes through untouched.
import { readFileSync, statSync, watch } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node lb-process.mjs <config.json>');
  process.exit(2);
}

const PROBE_INTERVAL_MS = 2_000;
const CONNECT_TIMEOUT_MS = 3_000;

const log = (msg, fields = {}) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);

/** @type {Map<string, {name: string, host: string, port: number, healthy: boolean, active: number}>} */
const backends = new Map();
let configMtime = 0;
let turn = 0;

function readConfig() {
  return JSON.parse(readFileSync(configPath, 'utf8'));
}

function applyBackends(list) {
  const seen = new Set();
  for (const b of Array.isArray(list) ? list : []) {
    if (!b || typeof b.port !== 'number') continue;
    const host = b.host || '127.0.0.1';
    const key = `${host}:${b.port}`;
    seen.add(key);
    if (!backends.has(key)) {
      backends.set(key, { name: b.name || key, host, port: b.port, healthy: true, active: 0 });
      log('backend added', { backend: key, name: b.name });
    }
  }
  for (const key of [...backends.keys()]) {
    if (!seen.has(key)) {
      backends.delete(key);
      log('backend removed', { backend: key });
    }
  }
}

// The config file goes away only with the cluster's state folder: then nobody owns this process.
const ORPHAN_AFTER_MS = 5_000;
let missingSince;

function reload() {
  let mtime;
  try {
    mtime = statSync(configPath).mtimeMs;
    missingSince = undefined;
  } catch {
    missingSince ??= Date.now();
    if (Date.now() - missingSince > ORPHAN_AFTER_MS) {
      log('config file gone; the cluster was removed: exiting', { configPath });
      process.exit(0);
    }
    return;
  }
  if (mtime === configMtime) return;
  try {
    applyBackends(readConfig().backends);
    configMtime = mtime;
  } catch (err) {
    log('config not readable; keeping the backends', { err: String(err) });
  }
}

function probe(backend) {
  const socket = net.connect({ host: backend.host, port: backend.port });
  const finish = (healthy) => {
    socket.destroy();
    if (backend.healthy !== healthy) log(healthy ? 'backend up' : 'backend down', { backend: backend.name });
    backend.healthy = healthy;
  };
  socket.setTimeout(CONNECT_TIMEOUT_MS, () => finish(false));
  socket.once('connect', () => finish(true));
  socket.once('error', () => finish(false));
}

/** Healthy backends first, fewest connections first, ties broken in turn. */
function candidates() {
  const list = [...backends.values()];
  turn = (turn + 1) % Math.max(list.length, 1);
  const rotated = [...list.slice(turn), ...list.slice(0, turn)];
  return rotated.sort((a, b) => Number(b.healthy) - Number(a.healthy) || a.active - b.active);
}

function forward(client, queue) {
  const backend = queue.shift();
  if (!backend) {
    client.destroy();
    return;
  }
  const upstream = net.connect({ host: backend.host, port: backend.port });
  let connected = false;
  upstream.setTimeout(CONNECT_TIMEOUT_MS, () => {
    if (!connected) upstream.destroy(new Error('connect timeout'));
  });
  upstream.once('connect', () => {
    if (client.destroyed) {
      upstream.destroy();
      return;
    }
    connected = true;
    upstream.setTimeout(0);
    backend.active++;
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
  upstream.on('error', () => {
    if (!connected) {
      if (backend.healthy) log('backend down', { backend: backend.name });
      backend.healthy = false;
      forward(client, queue);
      return;
    }
    client.destroy();
  });
  upstream.once('close', () => {
    if (connected) {
      backend.active--;
      client.destroy();
    }
  });
  client.once('close', () => {
    if (connected) upstream.destroy();
  });
}

let listen;
try {
  const config = readConfig();
  listen = config.listen;
  applyBackends(config.backends);
  configMtime = statSync(configPath).mtimeMs;
} catch (err) {
  log('cannot read the config', { err: String(err), configPath });
  process.exit(1);
}

const server = net.createServer({ pauseOnConnect: true }, (client) => {
  client.on('error', () => {});
  forward(client, candidates());
});
server.on('error', (err) => {
  log('cannot listen', { err: String(err) });
  process.exit(1);
});
server.listen({ host: listen.host || '127.0.0.1', port: listen.port }, () => {
  log('listening', { host: listen.host || '127.0.0.1', port: listen.port, backends: backends.size });
});

try {
  watch(dirname(configPath), { persistent: false }, () => reload());
} catch {
  // polling below is enough
}
setInterval(reload, 500);
setInterval(() => {
  for (const backend of backends.values()) probe(backend);
}, PROBE_INTERVAL_MS);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    log('stopping', { signal });
    server.close();
    process.exit(0);
  });
}
