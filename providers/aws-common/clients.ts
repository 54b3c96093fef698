// One set of AWS clients per region and credential set, shared by every cluster that uses them.
// The endpoint is the SDK's own business: AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_<SERVICE>) points
// every client at an emulator such as moto or LocalStack; nothing here knows about either.
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { STSClient } from '@aws-sdk/client-sts';
import type { StaticCredentials } from './credentials.js';
import { iamPrefixOf } from './errors.js';
import { noBlindRetryOfCreates } from './lost-answers.js';

/** One AWS API call, as the factory's observer sees it (once per call, not per retry). */
export interface AwsCall {
  /** The IAM service prefix: ec2, elasticloadbalancing, eks, sts. */
  service: string;
  /** The API operation: RunInstances, DescribeVpcs, ... */
  operation: string;
  region: string;
}

export interface AwsClientFactoryOptions {
  /** Told about every call (metrics, tests, benchmarks). */
  onCall?: (call: AwsCall) => void;
  /** Attempts per call, retries included (the SDK's adaptive mode paces them). Default 5. */
  maxAttempts?: number;
  /** How many region/credential sets to keep clients for. Default 32. */
  maxEntries?: number;
  /**
   * Called with every client made, after the factory's own middleware is in place: the SDK's edge,
   * where a test fakes the one call an emulator lacks (and names it).
   */
  onClient?: (client: AwsSdkClient, service: string) => void;
}

export type AwsSdkClient = EC2Client | ElasticLoadBalancingV2Client | EKSClient | STSClient;

/** What the factory's own middleware needs of an SDK client. */
export interface MiddlewareHost {
  middlewareStack: {
    add: (
      mw: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      opts: { step: 'initialize' | 'deserialize'; name: string; priority?: 'high'; override?: boolean },
    ) => void;
  };
}

/** The clients of one region and credential set; each is made on first use. */
export class AwsClients {
  private ec2Client?: EC2Client;
  private elbv2Client?: ElasticLoadBalancingV2Client;
  private eksClient?: EKSClient;
  private stsClient?: STSClient;

  constructor(
    readonly region: string,
    private readonly credentials: StaticCredentials | undefined,
    private readonly opts: AwsClientFactoryOptions,
  ) {}

  private config() {
    return {
      region: this.region,
      retryMode: 'adaptive' as const,
      maxAttempts: this.opts.maxAttempts ?? 5,
      customUserAgent: 'clusterforge',
      ...(this.credentials ? { credentials: this.credentials } : {}),
    };
  }

  /** Names every call for the observer, and marks a failed call's error with its IAM action. */
  private instrument<T extends AwsSdkClient>(client: T, serviceId: string): T {
    const service = iamPrefixOf(serviceId);
    const region = this.region;
    const onCall = this.opts.onCall;
    (client as unknown as MiddlewareHost).middlewareStack.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
        onCall?.({ service, operation, region });
        try {
          return await next(args);
        } catch (err) {
          if (err && typeof err === 'object' && !('$operation' in err)) {
            Object.defineProperty(err, '$operation', { value: `${service}:${operation}`, enumerable: false });
          }
          throw err;
        }
      },
      { step: 'initialize', name: 'clusterforgeOperation', override: true },
    );
    noBlindRetryOfCreates(client as unknown as MiddlewareHost);
    this.opts.onClient?.(client, service);
    return client;
  }

  get ec2(): EC2Client {
    this.ec2Client ??= this.instrument(new EC2Client(this.config()), 'ec2');
    return this.ec2Client;
  }

  get elbv2(): ElasticLoadBalancingV2Client {
    this.elbv2Client ??= this.instrument(
      new ElasticLoadBalancingV2Client(this.config()),
      'elastic load balancing v2',
    );
    return this.elbv2Client;
  }

  get eks(): EKSClient {
    this.eksClient ??= this.instrument(new EKSClient(this.config()), 'eks');
    return this.eksClient;
  }

  get sts(): STSClient {
    this.stsClient ??= this.instrument(new STSClient(this.config()), 'sts');
    return this.stsClient;
  }

  destroy(): void {
    for (const c of [this.ec2Client, this.elbv2Client, this.eksClient, this.stsClient]) c?.destroy();
    this.ec2Client = undefined;
    this.elbv2Client = undefined;
    this.eksClient = undefined;
    this.stsClient = undefined;
  }
}

export class AwsClientFactory {
  private readonly entries = new Map<string, AwsClients>();

  constructor(private readonly opts: AwsClientFactoryOptions = {}) {}

  /**
   * The clients for `region` with `credentials` (undefined: the default credential chain).
   * `cacheKey` identifies the credential set without holding the secret in a map key.
   */
  get(region: string, credentials: StaticCredentials | undefined, cacheKey: string): AwsClients {
    const key = `${region}\0${cacheKey}`;
    const existing = this.entries.get(key);
    if (existing) {
      // Most recently used last, so eviction takes the least recently used.
      this.entries.delete(key);
      this.entries.set(key, existing);
      return existing;
    }
    const clients = new AwsClients(region, credentials, this.opts);
    this.entries.set(key, clients);
    const max = this.opts.maxEntries ?? 32;
    while (this.entries.size > max) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, AwsClients];
      this.entries.delete(oldestKey);
      oldest.destroy();
    }
    return clients;
  }

  destroy(): void {
    for (const c of this.entries.values()) c.destroy();
    this.entries.clear();
  }
}
