// docs/observability/'s generated files match the code that writes them, and the dashboard is one
// Grafana can lay out: unique panel ids, every panel inside the 24-column grid, one query id per target.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dashboard } from '../../../src/operator/observability/dashboard.js';
import { outputs, RULES_FILE } from '../../../src/operator/observability/generate.js';

interface Panel {
  id: number;
  type: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { refId: string; expr: string }[];
}

describe('docs/observability', () => {
  it('holds what generate.ts writes (run `make generate` when this fails)', () => {
    for (const [file, text] of Object.entries(outputs())) expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('has a PrometheusRule with exactly the groups of the rules file', () => {
    const [file, text] = Object.entries(outputs()).find(([f]) => f.endsWith('prometheusrule.yaml')) ?? [];
    expect(file).toBeDefined();
    const rule = parse(text as string) as { kind: string; spec: { groups: unknown } };
    expect(rule.kind).toBe('PrometheusRule');
    expect(rule.spec.groups).toEqual((parse(readFileSync(RULES_FILE, 'utf8')) as { groups: unknown }).groups);
  });

  it('lays the dashboard out on the grid, each panel with its own id and queries', () => {
    const panels = dashboard().panels as Panel[];
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w, `panel ${p.id}`).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      const refs = (p.targets ?? []).map((t) => t.refId);
      expect(refs.length, `panel ${p.id} has queries`).toBeGreaterThan(0);
      expect(new Set(refs).size).toBe(refs.length);
    }
    // No two panels overlap.
    const cells = new Set<string>();
    for (const { gridPos: g } of panels) {
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          const cell = `${x},${y}`;
          expect(cells.has(cell), `cell ${cell} is taken twice`).toBe(false);
          cells.add(cell);
        }
      }
    }
  });
});
