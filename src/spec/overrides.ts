import { parse as parseYamlValue } from 'yaml';
import { InvalidInputError } from '../errors.js';
import type { YamlSource } from './yaml-source.js';

/**
 * Applies `--set key.path=value` overrides to the job document before validation, so the
 * overridden values are validated like any other (and reported as coming from --set).
 * Values are read as YAML scalars: `3` is a number, `true` a boolean, `[a, b]` a list.
 */
export function applyOverrides(source: YamlSource, assignments: readonly string[]): void {
  for (const assignment of assignments) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) {
      throw new InvalidInputError('E_USAGE', `--set ${assignment}: expected key.path=value`);
    }
    const path = assignment
      .slice(0, equals)
      .split('.')
      .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
    if (path.some((part) => part === '')) {
      throw new InvalidInputError('E_USAGE', `--set ${assignment}: the key path has an empty part`);
    }
    const rawValue = assignment.slice(equals + 1);
    let value: unknown;
    try {
      value = parseYamlValue(rawValue);
    } catch {
      value = rawValue;
    }
    try {
      source.document.setIn(path, source.document.createNode(value));
      source.markOverride(path, assignment);
    } catch (error) {
      throw new InvalidInputError('E_USAGE', `--set ${assignment}: cannot set that path: ${(error as Error).message}`);
    }
  }
}
