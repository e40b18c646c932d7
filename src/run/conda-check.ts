import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { missingModules } from '../bridges/python-interpreter.js';
import type { ResolvedParallelJob } from '../spec/resolve-job.js';

/** Distribution names whose import name differs. */
const IMPORT_NAMES: Record<string, string> = {
  'scikit-learn': 'sklearn',
  'azureml-core': 'azureml.core',
  'azureml-defaults': 'azureml',
  pillow: 'PIL',
  'opencv-python': 'cv2',
  'python-dateutil': 'dateutil',
  pyyaml: 'yaml',
  'beautifulsoup4': 'bs4',
};
/** Entries that are not importable packages (the interpreter itself, tooling). */
const NOT_MODULES = new Set(['python', 'pip', 'setuptools', 'wheel']);

/**
 * A conda file cannot be provisioned locally: the run uses the chosen interpreter. What we can
 * do is check that what the file lists imports there, and name what does not (one warning).
 */
export async function checkCondaFile(job: ResolvedParallelJob, interpreter: string): Promise<string[]> {
  if (!job.condaFile) return [];
  let packages: string[];
  try {
    const document = parse(readFileSync(job.condaFile, 'utf8')) as { dependencies?: unknown[] } | null;
    packages = [];
    for (const entry of document?.dependencies ?? []) {
      if (typeof entry === 'string') packages.push(entry);
      else if (entry && typeof entry === 'object' && Array.isArray((entry as { pip?: unknown[] }).pip)) {
        for (const pip of (entry as { pip: unknown[] }).pip) if (typeof pip === 'string') packages.push(pip);
      }
    }
  } catch (error) {
    return [`task.environment.conda_file ${job.condaFile} cannot be read: ${(error as Error).message}`];
  }
  const modules = [...new Set(packages.map(moduleName).filter((name): name is string => name !== undefined))];
  const missing = await missingModules(interpreter, modules);
  return missing.length > 0 ? [`task.environment.conda_file lists packages that do not import in ${interpreter}: ${missing.join(', ')} (the environment is not provisioned locally)`] : [];
}

function moduleName(requirement: string): string | undefined {
  const name = requirement.split(/[<>=!~;\[\s]/)[0]?.trim().toLowerCase();
  if (!name || NOT_MODULES.has(name) || name.includes('/') || name.startsWith('-')) return undefined;
  return IMPORT_NAMES[name] ?? name.replace(/-/g, '_');
}
