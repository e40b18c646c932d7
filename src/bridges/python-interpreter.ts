import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { InvalidInputError } from '../errors.js';

const run = promisify(execFile);

export interface PythonInterpreter {
  /** What worker processes run: for `python3 on PATH`, the interpreter it turned out to be. */
  path: string;
  version: string;
  /** Where the choice came from, for the log. */
  source: string;
  /** The command chosen, before that: a worker started ahead with it is this interpreter too. */
  requested: string;
}

export interface PythonChoice {
  /** `--python`. */
  flag?: string | undefined;
  /** `MINIBATCH_PYTHON`. */
  env?: string | undefined;
  /** `task.environment.python`: an interpreter or a virtual environment's folder. */
  environment?: string | undefined;
}

/** What an interpreter says of itself: its version, and the file it runs from (sys.executable). */
export interface PythonAbout {
  version: string;
  executable: string;
}

/**
 * An interpreter's own answer, when something already running it can give one (a bridge started
 * ahead announces itself: python/minibatch_bridge.py), instead of starting it once more to ask.
 */
export type PythonAnnouncement = (command: string) => Promise<PythonAbout | undefined> | undefined;

const MINIMUM = [3, 8] as const;
const DEFAULT_COMMAND = 'python3';

/**
 * The interpreter for Python entry scripts: `--python`, then `MINIBATCH_PYTHON`, then the job's
 * `environment.python` (a venv folder means its bin/python), then `python3` on PATH. It must
 * run and be Python ≥ 3.8; otherwise the job is refused before it starts.
 *
 * `python3` on PATH is replaced by the file it runs (sys.executable): a version manager's shim
 * (pyenv, asdf) is a shell script that took ~0.3 s of CPU per process started through it here,
 * twice a 1-mini-batch job's whole run. A command named explicitly is run as given: it may be a
 * wrapper that sets the environment up.
 */
export async function findPython(choice: PythonChoice, announced?: PythonAnnouncement): Promise<PythonInterpreter> {
  const [candidate, source] =
    choice.flag !== undefined
      ? [choice.flag, '--python']
      : choice.env
        ? [choice.env, 'MINIBATCH_PYTHON']
        : choice.environment
          ? [venvPython(choice.environment), 'task.environment.python']
          : [DEFAULT_COMMAND, `${DEFAULT_COMMAND} on PATH`];
  const about = (await announced?.(candidate)) ?? (await askPython(candidate, source));
  const { version } = about;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
    throw new InvalidInputError('E_USAGE', `Python interpreter ${candidate} (from ${source}) is Python ${version}; expected ${MINIMUM.join('.')} or newer`);
  }
  const byDefault = choice.flag === undefined && !choice.env && !choice.environment;
  const resolved = byDefault && isAbsolute(about.executable) && existsSync(about.executable);
  return { path: resolved ? about.executable : candidate, version, source, requested: candidate };
}

/** Starts `command` to ask its version and executable. */
async function askPython(command: string, source: string): Promise<PythonAbout> {
  let output: string;
  try {
    // -S: no `site` (site-packages and their .pth files), which a version needs not: ~10 ms
    // less of a Python job's start-up (Debian's python3, measured).
    ({ stdout: output } = await run(command, ['-S', '-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3]); print(sys.executable or "")'], { timeout: 15_000 }));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (error as Error).message.split('\n')[0];
    throw new InvalidInputError('E_USAGE', `Python interpreter ${command} (from ${source}): ${reason}; a .py entry script needs Python ${MINIMUM.join('.')} or newer (choose one with --python or MINIBATCH_PYTHON)`);
  }
  const [version = '', executable = ''] = output.split('\n').map((line) => line.trim());
  return { version, executable };
}

function venvPython(path: string): string {
  if (existsSync(path) && statSync(path).isDirectory()) {
    for (const name of ['bin/python3', 'bin/python', 'Scripts/python.exe']) {
      const candidate = join(path, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return path;
}

/** Whether `modules` import in the interpreter; the names of those that do not. */
export async function missingModules(interpreter: string, modules: readonly string[]): Promise<string[]> {
  if (modules.length === 0) return [];
  const script = `import importlib, json, sys\nmissing = []\nfor name in json.loads(sys.argv[1]):\n    try:\n        importlib.import_module(name)\n    except Exception:\n        missing.append(name)\nprint(json.dumps(missing))`;
  try {
    const { stdout } = await run(interpreter, ['-c', script, JSON.stringify(modules)], { timeout: 60_000 });
    return JSON.parse(stdout.trim()) as string[];
  } catch {
    return [...modules];
  }
}
