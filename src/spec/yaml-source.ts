import { readFileSync } from 'node:fs';
import { Document, LineCounter, YAMLMap, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { InvalidInputError } from '../errors.js';

export type FieldPath = ReadonlyArray<string | number>;

/**
 * A YAML file kept as a Document (not plain data) so that every error can point at the
 * line and column of the field it is about, and so `--set` edits keep those positions.
 */
export class YamlSource {
  readonly file: string;
  readonly document: Document;
  readonly #lines: LineCounter;
  readonly #overrides: { path: FieldPath; assignment: string }[] = [];

  private constructor(file: string, document: Document, lines: LineCounter) {
    this.file = file;
    this.document = document;
    this.#lines = lines;
  }

  static read(file: string, displayName = file): YamlSource {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
      throw new InvalidInputError('E_USAGE', `${displayName}: cannot read the job file: ${reason}`);
    }
    return YamlSource.parse(text, displayName);
  }

  static parse(text: string, displayName: string): YamlSource {
    const lines = new LineCounter();
    const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const first = document.errors[0];
    if (first) {
      const at = first.linePos?.[0] ?? lines.linePos(first.pos[0]);
      const where = `${displayName}:${at.line}:${at.col}`;
      const raw = first.message.split('\n')[0] ?? first.message;
      const reason = /multiple documents/i.test(raw) ? 'expected one YAML document, found several (separated by ---)' : raw;
      throw new InvalidInputError('E_YAML_SYNTAX', `${where}: malformed YAML: ${reason}`);
    }
    return new YamlSource(displayName, document, lines);
  }

  /**
   * The mapping at `path` as a document of its own (a pipeline step as a job), sharing this
   * file's positions: errors found in it still point at the pipeline file's lines. Edits to
   * the subtree are edits to this document.
   */
  subtree(path: FieldPath): YamlSource {
    const node = this.document.getIn(path, true);
    const document = new Document();
    document.contents = (node ?? null) as Document['contents'];
    const subtree = new YamlSource(this.file, document, this.#lines);
    // `--set jobs.a.x=1` is `--set x=1` of step a: errors under it still name the --set.
    for (const override of this.#overrides) {
      if (override.path.length > path.length && path.every((part, index) => String(part) === String(override.path[index]))) {
        subtree.markOverride(override.path.slice(path.length), override.assignment);
      }
    }
    return subtree;
  }

  toJS(): unknown {
    try {
      return this.document.toJS();
    } catch (error) {
      // An alias to an anchor that does not exist is only found here.
      throw new InvalidInputError('E_YAML_SYNTAX', `${this.file}: malformed YAML: ${(error as Error).message}`);
    }
  }

  /** Remembers that `path` was set by `--set`, so errors under it point there, not at the file. */
  markOverride(path: FieldPath, assignment: string): void {
    this.#overrides.push({ path, assignment });
  }

  /** `file:line:col` of the field at `path` (its key when it has one), or of its nearest parent. */
  locate(path: FieldPath): string {
    for (let i = this.#overrides.length - 1; i >= 0; i--) {
      const override = this.#overrides[i];
      if (override && override.path.length <= path.length && override.path.every((part, index) => String(part) === String(path[index]))) {
        return `--set ${override.assignment}`;
      }
    }
    // A parent that --set created (`--set retry_setings.max_retries=1` makes `retry_setings`):
    // it is nowhere in the file, so the --set that made it is to blame, not the file's first line.
    if (path.length > 0 && !this.#inFile(path)) {
      for (let i = this.#overrides.length - 1; i >= 0; i--) {
        const override = this.#overrides[i];
        if (override && path.every((part, index) => String(part) === String(override.path[index]))) return `--set ${override.assignment}`;
      }
    }
    const offset = this.#offsetOf(path);
    if (offset === undefined) return this.file;
    const { line, col } = this.#lines.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }

  /** Whether the field at `path` was written in the file (it has a position), not made by --set. */
  #inFile(path: FieldPath): boolean {
    const parent = path.length === 1 ? this.document.contents : this.document.getIn(path.slice(0, -1), true);
    const key = path[path.length - 1];
    if (isMap(parent)) {
      const pair = (parent as YAMLMap).items.find((item) => String(isScalar(item.key) ? item.key.value : item.key) === String(key));
      return Boolean((pair?.key as Node | undefined)?.range);
    }
    if (isSeq(parent) && typeof key === 'number') return Boolean((parent.items[key] as Node | undefined)?.range);
    return false;
  }

  #offsetOf(path: FieldPath): number | undefined {
    for (let depth = path.length; depth > 0; depth--) {
      const parent = depth === 1 ? this.document.contents : this.document.getIn(path.slice(0, depth - 1), true);
      const key = path[depth - 1];
      if (isMap(parent)) {
        const pair = (parent as YAMLMap).items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
        const keyNode = pair?.key as Node | undefined;
        if (keyNode?.range) return keyNode.range[0];
      } else if (isSeq(parent) && typeof key === 'number') {
        const item = parent.items[key] as Node | undefined;
        if (item?.range) return item.range[0];
      }
    }
    const root = this.document.contents as Node | null;
    return root?.range?.[0];
  }
}
