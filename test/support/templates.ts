// A provider's cluster template, rendered with variables and applied with kubectl, as a user would.
import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import { renderTemplate } from '../../src/templates/render.js';
import { kubectl } from './kube.js';

export async function applyClusterTemplate(
  template: 'inmemory' | 'local' | 'aws-ec2' | 'aws-eks',
  vars: Record<string, string>,
): Promise<void> {
  const manifest = renderTemplate(
    await readFile(`templates/${template}/cluster-template.yaml`, 'utf8'),
    vars,
  );
  const applied = await kubectl(['apply', '-f', '-'], { input: manifest });
  expect(applied.stderr).toBe('');
}
