// A small HTTPS client with client certificates, for etcd's JSON gateway and the API servers'
// health endpoints. No connection is kept open between calls. A `dial` carries the TLS connection
// over a stream of the caller's (a port-forward through a workload cluster's API) instead of TCP.
import { request } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';

/** A client identity: the CA to trust and the client certificate to present (PEM contents). */
export interface TlsIdentity {
  ca: string;
  cert: string;
  key: string;
}

export interface HttpsResponse {
  status: number;
  text: string;
}

export interface HttpsRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
  /** Opens the stream the TLS connection runs over; the URL's host stays the name the server proves. */
  dial?: () => Promise<Duplex>;
}

export async function httpsRequest(
  url: string,
  identity: TlsIdentity,
  req: HttpsRequest = {},
): Promise<HttpsResponse> {
  const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
  const stream = req.dial ? await req.dial() : undefined;
  const host = new URL(url).hostname;
  // SNI carries names only; an IP is still checked against the certificate's IP addresses.
  const names = isIP(host) ? { host } : { servername: host, host };
  return await new Promise<HttpsResponse>((resolve, reject) => {
    const r = request(
      url,
      {
        method: req.method ?? (payload ? 'POST' : 'GET'),
        ca: identity.ca,
        cert: identity.cert,
        key: identity.key,
        // No agent with a stream of our own: http uses createConnection only when there is none.
        ...(stream
          ? {
              createConnection: () =>
                tlsConnect({
                  socket: stream,
                  ...names,
                  ca: identity.ca,
                  cert: identity.cert,
                  key: identity.key,
                }),
            }
          : { agent: false }),
        timeout: req.timeoutMs ?? 3_000,
        headers: payload
          ? {
              'content-type': req.contentType ?? 'application/json',
              'content-length': Buffer.byteLength(payload),
            }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`timed out: ${url}`)));
    r.on('error', reject);
    // What ends the stream (a port-forward's error channel) fails the request, never the process.
    stream?.on('error', (err) => r.destroy(err));
    r.on('close', () => stream?.destroy());
    r.end(payload);
  });
}

/** A JSON request; throws on a transport error, returns the status and the parsed body otherwise. */
export async function httpsJson<T>(
  url: string,
  identity: TlsIdentity,
  req: HttpsRequest = {},
): Promise<{ status: number; body: T | undefined; text: string }> {
  const res = await httpsRequest(url, identity, req);
  let body: T | undefined;
  try {
    body = res.text ? (JSON.parse(res.text) as T) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text: res.text };
}
