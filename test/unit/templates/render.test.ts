import { describe, expect, it } from 'vitest';
import { listVariables, MissingVariablesError, renderTemplate } from '../../../src/templates/render.js';

describe('renderTemplate', () => {
  it('takes values first, then the environment, then the default', () => {
    const tpl = 'a=${A} b=${B:=two} c=${C:=three}';
    expect(renderTemplate(tpl, { A: '1' }, { B: 'env-b' })).toBe('a=1 b=env-b c=three');
    expect(renderTemplate(tpl, { A: '1', B: 'flag-b' }, { B: 'env-b' })).toBe('a=1 b=flag-b c=three');
  });

  it('names every missing variable once', () => {
    const attempt = () => renderTemplate('${X} ${Y:=y} ${Z} ${X}', {});
    expect(attempt).toThrow(MissingVariablesError);
    expect(attempt).toThrow('missing value for variables: X, Z');
  });

  it('accepts an empty default', () => {
    expect(renderTemplate('[${E:=}]', {})).toBe('[]');
  });

  it('lists variables with their defaults in order of first use', () => {
    expect(listVariables('${A} ${B:=b} ${A:=late} ${C}')).toEqual([
      { name: 'A', default: 'late' },
      { name: 'B', default: 'b' },
      { name: 'C' },
    ]);
  });
});
