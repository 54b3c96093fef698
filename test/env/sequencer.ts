// The order of the integration test files: vitest's own (slowest first, as its cache knows them), except
// that the files that wait for another Kubernetes version's binaries (test/support/kube-binaries.ts) go
// last, so that on a cold machine their build, started in the background by make test, overlaps the rest.
import { readFileSync } from 'node:fs';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const WAITS = 'waitForKubeBinaries(';

export default class KubeBuildsLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const waits = (f: TestSpecification): boolean => {
      try {
        return readFileSync(f.moduleId, 'utf8').includes(WAITS);
      } catch {
        return false;
      }
    };
    return [...sorted.filter((f) => !waits(f)), ...sorted.filter(waits)];
  }
}
