// Small helpers the EC2 services share.
import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { classifyAwsError } from '../../aws-common/errors.js';
import type { Ec2Scope } from '../scope.js';

export const ANYWHERE = '0.0.0.0/0';

/** The items ordered by their AWS ID, so that "the first" of several tagged ones is always the same. */
export function byId<T>(items: T[], key: (t: T) => string | undefined): T[] {
  return [...items].sort((a, b) => (key(a) ?? '').localeCompare(key(b) ?? ''));
}

export function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

/**
 * Network interfaces that keep a subnet, security group or VPC alive, named for a condition message
 * ("eni-1 (ELB net/...)").
 */
export async function blockingInterfaces(
  s: Ec2Scope,
  filter: { name: 'subnet-id' | 'group-id' | 'vpc-id'; value: string },
): Promise<string> {
  try {
    const out = await s.clients.ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: filter.name, Values: [filter.value] }] }),
    );
    const enis = (out.NetworkInterfaces ?? []).map(
      (n) => `${n.NetworkInterfaceId}${n.Description ? ` (${n.Description})` : ''}`,
    );
    return enis.length > 0
      ? `; in use by ${enis.slice(0, 5).join(', ')}${enis.length > 5 ? ', ...' : ''}`
      : '';
  } catch {
    return '';
  }
}

/**
 * Runs one delete. Gone (or already absent): undefined. Blocked by a dependency: a sentence naming
 * what is blocked and, when `blockers` can tell, by what. Any other error is thrown.
 */
export async function tryDelete(
  what: string,
  call: () => Promise<unknown>,
  blockers?: () => Promise<string>,
): Promise<string | undefined> {
  try {
    await call();
    return undefined;
  } catch (err) {
    const c = classifyAwsError(err);
    if (c.kind === 'notFound') return undefined;
    if (c.kind === 'dependency')
      return `${what} is blocked (${c.code}: ${c.message})${blockers ? await blockers() : ''}`;
    throw err;
  }
}

/** How deleteEach speaks of one kind of resource, and where it looks for what blocks one. */
export interface DeletableKind {
  /** How messages name one: "subnet" gives "subnet subnet-1" and the log line "deleted subnet". */
  noun: string;
  /** The log line's field that carries the ID ("subnet"). */
  logKey: string;
  /** The log line once one is gone, when not "deleted <noun>". */
  gone?: string;
  /** The network-interface filter that names what keeps one alive (groups, subnets, VPCs). */
  heldBy?: 'subnet-id' | 'group-id' | 'vpc-id';
}

export interface Doomed {
  id: string;
  /** How messages name it, when more than "<noun> <id>" ("security group sg-1 (web)"). */
  what?: string;
  /** What must happen first (detach, disassociate): a sentence when it is blocked, and then no delete. */
  prepare?: () => Promise<string | undefined>;
}

/**
 * Deletes each in turn with `remove` (through tryDelete): returns what is still there and why, empty
 * once all are gone; each one gone is logged.
 */
export async function deleteEach(
  s: Ec2Scope,
  kind: DeletableKind,
  doomed: Doomed[],
  remove: (id: string) => Promise<unknown>,
): Promise<string[]> {
  const filter = kind.heldBy;
  const remaining: string[] = [];
  for (const d of doomed) {
    const blocked =
      (await d.prepare?.()) ??
      (await tryDelete(
        d.what ?? `${kind.noun} ${d.id}`,
        () => remove(d.id),
        filter ? () => blockingInterfaces(s, { name: filter, value: d.id }) : undefined,
      ));
    if (blocked) remaining.push(blocked);
    else s.log.info({ [kind.logKey]: d.id }, kind.gone ?? `deleted ${kind.noun}`);
  }
  return remaining;
}
