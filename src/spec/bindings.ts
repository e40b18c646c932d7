import { closestName } from './suggest.js';

/** What `${{inputs.x}}` and `${{outputs.x}}` resolve to in a job. */
export interface BindingScope {
  inputs: Record<string, string>;
  outputs: Record<string, string>;
}

const EXPRESSION = /\$\{\{\s*([^}]*?)\s*\}\}/g;

export interface BindingReference {
  group: 'inputs' | 'outputs';
  name: string;
}

/** Parses `inputs.x` / `outputs.x`; a string error message otherwise. */
export function parseReference(expression: string, scope: BindingScope): BindingReference | string {
  const match = /^(inputs|outputs)\.([A-Za-z_][\w-]*)$/.exec(expression);
  if (!match) return `\${{${expression}}} is not a binding this job understands; expected \${{inputs.<name>}} or \${{outputs.<name>}}`;
  const group = match[1] as 'inputs' | 'outputs';
  const name = match[2] ?? '';
  if (!(name in scope[group])) {
    const known = Object.keys(scope[group]);
    const near = closestName(name, known);
    const hint = near ? `; did you mean \${{${group}.${near}}}?` : known.length ? `; this job's ${group}: ${known.join(', ')}` : `; this job declares no ${group}`;
    return `\${{${group}.${name}}} names no declared ${group === 'inputs' ? 'input' : 'output'}${hint}`;
  }
  return { group, name };
}

/** Replaces every `${{ }}` in `text`; the first unknown reference is returned as an error message. */
export function bindExpressions(text: string, scope: BindingScope): { value: string } | { error: string } {
  let error: string | undefined;
  const value = text.replace(EXPRESSION, (whole, expression: string) => {
    const reference = parseReference(expression, scope);
    if (typeof reference === 'string') {
      error ??= reference;
      return whole;
    }
    return scope[reference.group][reference.name] ?? whole;
  });
  return error === undefined ? { value } : { error };
}

/** When `text` is exactly one `${{ }}` expression, its inner text; otherwise undefined. */
export function soleExpression(text: string): string | undefined {
  const match = /^\s*\$\{\{\s*([^}]*?)\s*\}\}\s*$/.exec(text);
  return match?.[1];
}
