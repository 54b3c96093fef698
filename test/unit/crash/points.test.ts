// The crash switch's grammar and its table: a name outside the table is refused, not ignored.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRASH_POINTS, crashPointsOf, parseCrashSwitch } from '../../../src/crash/points.js';

describe('CLUSTERFORGE_CRASH_AT', () => {
  it('is off when unset or empty', () => {
    expect(parseCrashSwitch(undefined)).toBeUndefined();
    expect(parseCrashSwitch('')).toBeUndefined();
  });

  it('reads <point> and <point>@<n>', () => {
    expect(parseCrashSwitch('spawn:etcd')).toEqual({ point: 'spawn:etcd', nth: 1 });
    expect(parseCrashSwitch('aws:RunInstances@3')).toEqual({ point: 'aws:RunInstances', nth: 3 });
  });

  it('refuses a point the table lacks, and a pass that is not a positive number', () => {
    expect(() => parseCrashSwitch('spawn:etdc')).toThrow(/no such crash point/);
    expect(() => parseCrashSwitch('spawn:etcd@0')).toThrow(/no such crash point/);
  });

  it('gives each provider its own points and the Kubernetes ones', () => {
    const local = crashPointsOf('local');
    const ec2 = crashPointsOf('aws-ec2');
    expect(local).toContain('spawn:etcd');
    expect(local).not.toContain('aws:RunInstances');
    expect(ec2).toContain('aws:RunInstances');
    expect(ec2).toContain('status:Cluster');
    expect(ec2).not.toContain('spawn:etcd');
    expect(new Set([...local, ...ec2])).toEqual(new Set(Object.keys(CRASH_POINTS)));
  });
});

describe('docs/crash-safety.md', () => {
  it('lists every crash point of the table', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../../docs/crash-safety.md'), 'utf8');
    expect(Object.keys(CRASH_POINTS).filter((p) => !doc.includes(`\`${p}\``))).toEqual([]);
  });
});
