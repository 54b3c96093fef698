// The one process supervisor: the dev environment, the test harness and the local provider start,
// adopt, stop and clean up their processes through it. See docs/development.md.
export { adoptedHandle, type DetachedProcess, startDetached } from './detached.js';
export {
  crashesForgiven,
  type KeepRunningOptions,
  type KeepRunningResult,
  keepRunning,
  type ProcessSlot,
} from './keep-running.js';
export { type Leftover, present, removeLeftovers } from './leftovers.js';
export {
  commandLineOf,
  type FoundProcess,
  pidAlive,
  processesRunning,
  processesUnder,
} from './linux-proc.js';
export { portInUse, tailFile, type WaitReadyOptions, waitReady } from './ready.js';
export { isRunning, livePids, type ProcessRecord } from './record.js';
export {
  childEnvironment,
  type ExitInfo,
  type Launcher,
  type ProcessHandle,
  type SpawnOptions,
} from './spawn.js';
export {
  type StopOnce,
  type StopOptions,
  type StopResult,
  signalGroup,
  stopOnce,
  stopProcessesUnder,
  stopRecorded,
} from './stop.js';
export { guardDir, removeGuardedDir, spawnTied } from './tied.js';
