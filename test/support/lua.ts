// Runs an Argo CD health check (Lua) on an object, as Argo CD does: the object is the global `obj`
// (its JSON turned into Lua tables, null into nil), the script's returned table is the verdict.
// Argo CD's interpreter is gopher-lua, the Lua 5.1 language, so lua5.1 runs it here (`make lua`
// installs it); a `lua` on PATH is used when lua5.1 is not there.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface HealthStatus {
  status: string;
  message: string;
}

/** A Lua string literal for any text: printable ASCII as it is, every other byte as \ddd. */
function luaString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out +=
      byte >= 0x20 && byte < 0x7f && ch !== '"' && ch !== '\\' ? ch : `\\${String(byte).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** A Lua table constructor for a JSON value. */
export function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') return luaString(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  return `{${Object.entries(value as object)
    .map(([k, v]) => `[${luaString(k)}] = ${toLua(v)}`)
    .join(', ')}}`;
}

export function luaInterpreter(): string {
  for (const candidate of ['lua5.1', 'lua']) {
    if (spawnSync(candidate, ['-v'], { encoding: 'utf8' }).status === 0) return candidate;
  }
  throw new Error('no Lua interpreter on PATH: run `make lua` (it installs lua5.1)');
}

/** Runs the health script file on `obj` with a real Lua interpreter. */
export function runHealthCheck(scriptPath: string, obj: unknown): HealthStatus {
  const script = readFileSync(scriptPath, 'utf8');
  const program = [
    `obj = ${toLua(obj)}`,
    'local function health()',
    script,
    'end',
    'local hs = health()',
    'io.write(hs.status, "\\n", hs.message or "")',
  ].join('\n');
  // The program on stdin (`-`): nothing is written to disk, so nothing is left behind.
  const run = spawnSync(luaInterpreter(), ['-'], { input: program, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`lua failed (${run.status}): ${run.stderr}`);
  const [status = '', ...message] = run.stdout.split('\n');
  return { status, message: message.join('\n') };
}
