import type { z } from 'zod';
import { describeValue } from '../errors.js';
import { closestName } from './suggest.js';
import type { FieldPath, YamlSource } from './yaml-source.js';

type Issue = z.core.$ZodIssue;

/** `retry_settings.max_retries`, `partition_keys[0]`. */
export function dottedPath(path: FieldPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${part}` : part;
  return out || '(top level)';
}

/**
 * Turns schema issues into one line each: `job.yml:12:3: retry_settings.max_retries:
 * expected an integer >= 0, got "three"`. `knownFields` gives the names allowed at a path,
 * for "did you mean" hints on unknown fields.
 */
export function formatIssues(
  issues: readonly Issue[],
  source: YamlSource,
  knownFields: (path: FieldPath) => string[],
  prefix: FieldPath = [],
): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path: FieldPath = [...prefix, ...(issue.path as FieldPath)];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const fieldPath = [...path, key];
        const suggestion = closestName(key, knownFields(path));
        const hint = suggestion ? ` (did you mean "${suggestion}"?)` : '';
        lines.push(`${source.locate(fieldPath)}: ${dottedPath(fieldPath)}: unknown field${hint}`);
      }
      continue;
    }
    const input = (issue as { input?: unknown }).input;
    if (issue.code === 'invalid_union') {
      const branch = pickUnionBranch(issue.errors);
      if (branch) {
        lines.push(...formatIssues(branch, source, knownFields, path));
        continue;
      }
      if (issue.message === 'Invalid input') {
        // No branch fits: say what any of them would have taken.
        const expected = [...new Set(issue.errors.flatMap((branchIssues) => branchIssues.filter((one) => one.code === 'invalid_type' && one.path.length === 0).map((one) => friendlyType((one as { expected: string }).expected))))];
        lines.push(`${source.locate(path)}: ${dottedPath(path)}: expected ${expected.join(' or ') || 'another value'}, got ${describeValue(input)}`);
        continue;
      }
    }
    let message = issue.message;
    // zod's own wording ("Invalid input: expected record, received array") said in ours.
    if (issue.code === 'invalid_type' && message.startsWith('Invalid input')) message = `expected ${friendlyType(issue.expected)}`;
    if (input === undefined && issue.code === 'invalid_type') {
      message = `required field is missing (${message})`;
    } else if (message.startsWith('expected') && input !== undefined && !message.includes(', got ')) {
      message = `${message}, got ${describeValue(input)}`;
    }
    lines.push(`${source.locate(path)}: ${dottedPath(path)}: ${message}`);
  }
  return lines;
}

function friendlyType(expected: string): string {
  const names: Record<string, string> = { object: 'a mapping', record: 'a mapping', array: 'a list', string: 'a string', number: 'a number', int: 'an integer', boolean: 'true or false' };
  return names[expected] ?? expected;
}

/** The union branch the user evidently meant: the one whose failure is not "wrong type at the root". */
function pickUnionBranch(branches: readonly (readonly Issue[])[]): readonly Issue[] | undefined {
  const plausible = branches.filter(
    (issues) => !issues.some((issue) => issue.code === 'invalid_type' && issue.path.length === 0),
  );
  return plausible.length === 1 ? plausible[0] : undefined;
}
