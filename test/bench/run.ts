// `npm run bench [-- local|aws-ec2|aws-eks]`: how fast the operator brings clusters up and what it
// costs, per provider (test/bench/local.ts, aws-ec2.ts, aws-eks.ts); `npm run bench -- scale` runs the
// scale bench (scale/index.ts), `npm run bench -- kills [seed]` the kill run (kills.ts) and
// `npm run bench -- cli [runs]` the CLI's start-up against kubectl's (cli.ts) on their own. Prints figures; asserts nothing
// (speed is measured here, never in a timed test). Bounded: every wait has a deadline, and everything started
// here (API server, etcd, the AWS API emulator, the operator) is stopped at the end.
//
// The operator is the built CLI (`make bench` builds first; `npm run bench` runs whatever dist/ holds).
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMAGE_OWNERS_ENV } from '../../providers/aws-ec2/services/images.js';
import { WORKLOAD_KUBECONFIG_ENV } from '../../providers/aws-ec2/workload-from-env.js';
import { processesUnder } from '../../src/supervisor/index.js';
import { awsEmulatorEnv } from '../env/global-setup.js';
import { startKubeEnv } from '../env/kube-env.js';
import { startMoto } from '../env/moto.js';
import { benchAwsEc2, prepareImage } from './aws-ec2.js';
import { benchAwsEks } from './aws-eks.js';
import { benchCli } from './cli.js';
import { benchKills } from './kills.js';
import { benchLocal } from './local.js';
import { benchScale } from './scale/index.js';
import { type OperatorProcess, repo, run, startOperatorProcess } from './support.js';

const SECTIONS = ['local', 'aws-ec2', 'aws-eks'] as const;

async function main() {
  const asked = process.argv.slice(2);
  // The scale bench starts an API server of its own per size and needs nothing else.
  if (asked.length === 1 && asked[0] === 'scale') {
    const rows = await benchScale();
    console.log(`\nclusterforge bench (${new Date().toISOString()}, node ${process.version})`);
    for (const row of rows) console.log(row);
    return;
  }
  // The kill run, too, brings its own API server and emulator: `kills [seed]`.
  if (asked[0] === 'kills' && asked.length <= 2) {
    const rows = await benchKills(Number(asked[1] ?? 1));
    console.log(`\nclusterforge bench (${new Date().toISOString()}, node ${process.version})`);
    for (const row of rows) console.log(row);
    return;
  }
  // The CLI bench, too: one API server, kubectl, and the built CLI: `cli [runs]`.
  if (asked[0] === 'cli' && asked.length <= 2) {
    const rows = await benchCli(asked[1]);
    console.log(`\nclusterforge bench (${new Date().toISOString()}, node ${process.version})`);
    for (const row of rows) console.log(row);
    return;
  }
  const unknown = asked.filter((a) => !(SECTIONS as readonly string[]).includes(a));
  if (unknown.length > 0)
    throw new Error(
      `unknown bench section(s) ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}, and scale, kills [seed] or cli [runs] on their own`,
    );
  const sections = asked.length > 0 ? asked : [...SECTIONS];

  const [kube, moto] = await Promise.allSettled([startKubeEnv(), startMoto()]);
  const stateDir = await mkdtemp(join(tmpdir(), 'clusterforge-bench-'));
  let operator: OperatorProcess | undefined;
  // Interrupted: the operator and the local clusters' processes (they outlive the operator by design)
  // go now; the test environment's own hooks stop the API server, etcd and the emulator.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      operator?.killSync();
      for (const p of processesUnder(stateDir)) process.kill(p.pid, 'SIGKILL');
      rmSync(stateDir, { recursive: true, force: true });
      process.exit(130);
    });
  }
  const rows: string[] = [];
  try {
    if (kube.status === 'rejected') throw kube.reason;
    if (moto.status === 'rejected') throw moto.reason;
    const env = kube.value;
    // This process talks to the emulator too (the image); nothing can reach real AWS.
    const aws = { ...awsEmulatorEnv(moto.value.endpoint), AWS_EC2_METADATA_DISABLED: 'true' };
    for (const v of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE'])
      delete process.env[v];
    Object.assign(process.env, aws);
    const account = await prepareImage();
    const kubectl = (args: string[], input?: string) =>
      run('kubectl', [`--kubeconfig=${env.kubeconfigPath}`, ...args], input);
    await kubectl(['apply', '--server-side', '-f', join(repo, 'crds')]);
    await kubectl(['wait', '--for=condition=Established', '-f', join(repo, 'crds')]);
    operator = await startOperatorProcess(env.kubeconfigPath, {
      ...aws,
      CLUSTERFORGE_STATE_DIR: stateDir,
      [IMAGE_OWNERS_ENV]: account,
      // The emulator's load balancers answer nothing: the bench's API server stands in (join tokens).
      [WORKLOAD_KUBECONFIG_ENV]: env.kubeconfigPath,
    });
    if (sections.includes('local')) rows.push(...(await benchLocal(env.kubeConfig, operator, kubectl)));
    if (sections.includes('aws-ec2')) rows.push(...(await benchAwsEc2(env.kubeConfig, operator, kubectl)));
    rows.push(`operator peak RSS (VmHWM): ${await operator.peakRSSMiB()} MiB`);
    // aws-eks runs its own operator in this process (see aws-eks.ts): this one must not reconcile it too.
    await operator.stop();
    operator = undefined;
    if (sections.includes('aws-eks')) rows.push(...(await benchAwsEks(env.kubeConfig, kubectl)));
  } finally {
    await operator?.stop();
    await Promise.allSettled([
      kube.status === 'fulfilled' ? kube.value.stop() : undefined,
      moto.status === 'fulfilled' ? moto.value.stop() : undefined,
    ]);
    await rm(stateDir, { recursive: true, force: true });
    if (rows.length > 0) {
      console.log(`\nclusterforge bench (${new Date().toISOString()}, node ${process.version})`);
      for (const row of rows) console.log(row);
    }
  }
}

await main();
