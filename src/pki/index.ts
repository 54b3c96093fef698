// The cluster PKI, shared by the self-managed providers (local, aws-ec2, inmemory).
export * from './cluster.js';
export * from './inspect.js';
export * from './issue.js';
export * from './keys.js';
export * from './kubeconfig.js';
export * from './pem.js';
