// Renders cluster templates: `${VAR}` and `${VAR:=default}`, as clusterctl's simple processor does.
// Values come from `values` first, then from `env`; a variable with neither value nor default is missing.

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::=([^}]*))?\}/g;

export class MissingVariablesError extends Error {
  constructor(readonly missing: string[]) {
    super(`missing value for variable${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
    this.name = 'MissingVariablesError';
  }
}

export interface TemplateVariable {
  name: string;
  /** The default written in the template, if any (the first one seen). */
  default?: string;
}

/** Every variable the template uses, in order of first use. */
export function listVariables(template: string): TemplateVariable[] {
  const seen = new Map<string, TemplateVariable>();
  for (const match of template.matchAll(PLACEHOLDER)) {
    const [, name, fallback] = match;
    if (!name) continue;
    const known = seen.get(name);
    if (!known) seen.set(name, fallback === undefined ? { name } : { name, default: fallback });
    else if (known.default === undefined && fallback !== undefined) known.default = fallback;
  }
  return [...seen.values()];
}

export function renderTemplate(
  template: string,
  values: Record<string, string | undefined>,
  env: Record<string, string | undefined> = {},
): string {
  const missing = new Set<string>();
  const out = template.replace(PLACEHOLDER, (_whole, name: string, fallback: string | undefined) => {
    const value = values[name] ?? env[name] ?? fallback;
    if (value === undefined) {
      missing.add(name);
      return '';
    }
    return value;
  });
  if (missing.size > 0) throw new MissingVariablesError([...missing]);
  return out;
}
