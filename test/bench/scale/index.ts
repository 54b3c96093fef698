// `npm run bench -- scale` / `make bench-scale CLUSTERS=100,300,1000`: the operator at N clusters of the
// in-memory provider against a real kube-apiserver + etcd (a fresh pair per N), with the floor of the
// same run. Bounded: every wait has a deadline; everything started here is stopped at the end.
import { progress } from '../support.js';
import { scaleReport } from './report.js';
import { benchOneSize, type ScaleResult } from './run-size.js';

function sizes(): number[] {
  const text = process.env.CLUSTERS || '100,300,1000';
  const out = text.split(',').map((v) => Number(v.trim()));
  for (const n of out)
    if (!Number.isInteger(n) || n < 1 || n > 5_000)
      throw new Error(`CLUSTERS must be whole numbers from 1 to 5000, separated by commas; got '${text}'`);
  return out;
}

function idleMs(): number {
  const minutes = Number(process.env.IDLE_MINUTES || '10');
  if (!Number.isFinite(minutes) || minutes < 0 || minutes > 60)
    throw new Error(
      `IDLE_MINUTES must be a number of minutes from 0 to 60; got '${process.env.IDLE_MINUTES}'`,
    );
  return minutes * 60_000;
}

export async function benchScale(): Promise<string[]> {
  const ns = sizes();
  const idle = idleMs();
  const operatorArgs = (process.env.OPERATOR_ARGS ?? '').split(' ').filter(Boolean);
  const results: ScaleResult[] = [];
  for (const clusters of ns) {
    progress(`scale: ${clusters} clusters`);
    results.push(await benchOneSize({ clusters, idleMs: idle, operatorArgs }));
  }
  return [
    `scale bench: ${ns.join(', ')} in-memory clusters (1 control-plane machine + 1 worker each)` +
      (operatorArgs.length > 0 ? `, operator ${operatorArgs.join(' ')}` : ''),
    ...scaleReport(results),
  ];
}
