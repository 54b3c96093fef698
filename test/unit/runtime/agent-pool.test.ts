// One keep-alive agent per TLS identity: the same material finds the same agent, other material another.
import { afterEach, describe, expect, it } from 'vitest';
import { AgentPool } from '../../../src/runtime/agent-pool.js';

describe('AgentPool', () => {
  const pool = new AgentPool();
  afterEach(() => pool.destroy());

  it('keeps one agent for an identity and makes another when the certificate changes', () => {
    const a = pool.agentFor({ ca: 'CA', cert: 'CERT-1', key: 'KEY-1' });
    expect(pool.agentFor({ ca: 'CA', cert: Buffer.from('CERT-1'), key: 'KEY-1' })).toBe(a);
    const rotated = pool.agentFor({ ca: 'CA', cert: 'CERT-2', key: 'KEY-1' });
    expect(rotated).not.toBe(a);
    expect(pool.agentFor({ ca: 'CA', cert: 'CERT-1', key: 'KEY-1', rejectUnauthorized: false })).not.toBe(a);
  });

  it('does not let two fields run together into the same identity', () => {
    const a = pool.agentFor({ cert: 'AB', key: 'C' });
    expect(pool.agentFor({ cert: 'A', key: 'BC' })).not.toBe(a);
  });

  it('drops the least recently used identity beyond its bound', () => {
    const first = pool.agentFor({ cert: 'c-0' });
    const second = pool.agentFor({ cert: 'c-1' });
    for (let i = 2; i < 256; i++) pool.agentFor({ cert: `c-${i}` });
    expect(pool.agentFor({ cert: 'c-0' })).toBe(first); // used again: now the most recent
    pool.agentFor({ cert: 'c-256' });
    expect(pool.size).toBe(256);
    expect(pool.agentFor({ cert: 'c-0' })).toBe(first);
    expect(pool.agentFor({ cert: 'c-1' })).not.toBe(second); // c-1 was the least recent: dropped
  });
});
