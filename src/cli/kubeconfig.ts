// Finds the management cluster's kubeconfig as kubectl does: --kubeconfig (which must exist), then the
// files of KUBECONFIG that exist (merged, the first wins), then ~/.kube/config, then the in-cluster
// service account; --context picks a context. Finding none is exit code 5 with the fix, where
// client-node would quietly fall back to http://localhost:8080. Loaded with src/kube/kubeconfig/, not
// client-node's KubeConfig: that one costs most of a second of start-up (see config.ts there).
import { accessSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Kubeconfig, type KubeconfigData } from '../kube/kubeconfig/config.js';
import { inClusterKubeconfig, mergeKubeconfigs, readKubeconfigFile } from '../kube/kubeconfig/load.js';
import { CliError, ExitCode } from './common.js';

export interface KubeconfigFlags {
  kubeconfig?: string;
  context?: string;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const KUBE_FIX = 'check --kubeconfig, KUBECONFIG and --context (kubectl config current-context)';

function exists(path: string): boolean {
  try {
    accessSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads one file; a missing or unparsable file is one line naming it (and the flag it came from). */
function loadFile(path: string, from: string): KubeconfigData {
  if (!exists(path))
    throw new CliError(`the kubeconfig ${path} (${from}) does not exist`, ExitCode.unreachable, KUBE_FIX);
  try {
    return readKubeconfigFile(path);
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0];
    throw new CliError(
      `cannot read the kubeconfig ${path} (${from}): ${reason}`,
      ExitCode.unreachable,
      KUBE_FIX,
    );
  }
}

function findKubeConfig(flag: string | undefined): KubeconfigData {
  if (flag) return loadFile(flag, '--kubeconfig');
  const fromEnv = (process.env.KUBECONFIG ?? '').split(delimiter).filter((f) => f && exists(f));
  if (fromEnv.length > 0) return mergeKubeconfigs(fromEnv.map((f) => loadFile(f, 'KUBECONFIG')));
  const home = join(homedir(), '.kube', 'config');
  if (!process.env.KUBECONFIG && exists(home)) return loadFile(home, '~/.kube/config');
  if (process.env.KUBERNETES_SERVICE_HOST && exists(SERVICE_ACCOUNT_TOKEN)) return inClusterKubeconfig();
  const looked = process.env.KUBECONFIG
    ? `none of the files of KUBECONFIG (${process.env.KUBECONFIG}) exists`
    : `KUBECONFIG is not set, ${home} does not exist and this is not a pod`;
  throw new CliError(
    `no kubeconfig: ${looked}`,
    ExitCode.unreachable,
    'pass --kubeconfig FILE or set KUBECONFIG (after make demo: export KUBECONFIG=$PWD/.clusterforge/dev/kubeconfig)',
  );
}

export function loadKubeConfig(flags: KubeconfigFlags): Kubeconfig {
  const kc = new Kubeconfig(findKubeConfig(flags.kubeconfig));
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) {
      throw new CliError(
        `context '${flags.context}' is not in the kubeconfig (have: ${kc
          .getContexts()
          .map((c) => c.name)
          .join(', ')})`,
        ExitCode.unreachable,
        KUBE_FIX,
      );
    }
    kc.setCurrentContext(flags.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new CliError(
      'the kubeconfig has no current cluster (no current-context, or it names no cluster)',
      ExitCode.unreachable,
      'pick one with --context, or: kubectl config use-context NAME',
    );
  }
  return kc;
}
