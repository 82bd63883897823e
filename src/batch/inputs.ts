/**
 * A cohort from the command line's inputs: slide files, folders (searched recursively for the file
 * extensions OpenSlide reads), text files listing paths (one per line, `#` comments; relative paths are
 * relative to the list; `-` reads the list from stdin) and QuPath projects (`.qpproj`). Each slide gets
 * a unique name for its output folder. A path that does not exist stays in the cohort as a slide with a
 * problem, so it shows up in the table instead of vanishing; an input that is not a cohort at all
 * stops the batch before anything runs.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { BatchInputError } from './errors';
import { readQuPathProject } from './qupath-project';
import { isSlideFile, SLIDE_EXTENSIONS } from './slide-files';

export interface CohortSlide {
  /** Unique within the cohort; the name of its output folder. */
  name: string;
  /** Absolute path. */
  path: string;
  /** The input that brought it in. */
  origin: string;
  /** Why it cannot be segmented before even trying (missing file, remote image...), else null. */
  problem: string | null;
}

interface Found {
  path: string;
  label: string;
  origin: string;
  problem: string | null;
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    // Symbolic links to folders are not followed (they can loop); links to files are slides like any.
    if (e.isDirectory()) out.push(...(await walk(full)));
    else if (
      isSlideFile(e.name) &&
      (e.isFile() || (e.isSymbolicLink() && (await stat(full).catch(() => null))?.isFile()))
    )
      out.push(full);
  }
  return out;
}

function looksBinary(data: Buffer): boolean {
  return data.subarray(0, 4096).includes(0);
}

function listLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

class Expander {
  readonly found: Found[] = [];
  private readonly lists = new Set<string>();

  constructor(private readonly readStdin: () => Promise<string>) {}

  async input(input: string, base: string, origin: string): Promise<void> {
    if (input === '-') {
      for (const line of listLines(await this.readStdin())) await this.input(line, base, 'stdin');
      return;
    }
    const file = path.resolve(base, input);
    const st = await stat(file).catch(() => null);
    if (!st) {
      this.add(file, origin, `file not found: ${file}`);
      return;
    }
    if (st.isDirectory()) {
      const slides = await walk(file);
      if (slides.length === 0) {
        throw new BatchInputError(`no slides in folder ${file} (looked for ${SLIDE_EXTENSIONS.join(' ')})`);
      }
      for (const s of slides) this.add(s, file);
      return;
    }
    const ext = path.extname(file).toLowerCase();
    if (ext === '.qpproj') {
      for (const image of await readQuPathProject(file)) {
        const label = isSlideFile(image.name) ? path.basename(image.name, path.extname(image.name)) : image.name;
        if (image.path) {
          const exists = (await stat(image.path).catch(() => null))?.isFile();
          this.add(
            image.path,
            file,
            exists ? image.problem : `file not found: ${image.path} (listed in ${file})`,
            label,
          );
        } else this.found.push({ path: `${file}#${image.name}`, label, origin: file, problem: image.problem });
      }
      return;
    }
    if (isSlideFile(file) || !st.isFile()) {
      this.add(file, origin, st.isFile() ? null : `not a regular file: ${file}`);
      return;
    }
    await this.list(file);
  }

  private async list(file: string): Promise<void> {
    const real = await realpath(file);
    if (this.lists.has(real)) return; // a list naming itself, directly or not
    this.lists.add(real);
    const data = await readFile(file);
    if (looksBinary(data)) {
      throw new BatchInputError(
        `${file} is not a slide OpenSlide reads (by its extension: ${SLIDE_EXTENSIONS.join(' ')}), a folder, a text list of paths or a QuPath project`,
      );
    }
    for (const line of listLines(data.toString('utf8'))) await this.input(line, path.dirname(file), file);
  }

  private add(file: string, origin: string, problem: string | null = null, label?: string): void {
    this.found.push({ path: file, label: label ?? path.basename(file, path.extname(file)), origin, problem });
  }
}

/** A folder name from a slide's name: path separators, control and Windows-reserved characters go. */
function safeName(label: string): string {
  const name = label
    // eslint-disable-next-line no-control-regex
    .replace(/[/\\:*?"<>|\u0000-\u001f]/g, '_')
    .replace(/^\.+/, '_')
    .trim();
  return name === '' ? 'slide' : name;
}

/**
 * Expands inputs into a cohort in input order. The same file reached twice (a folder and a list)
 * is one slide; the same content under two paths stays two slides (computed once, see the runner).
 */
export async function expandInputs(
  inputs: readonly string[],
  options: { cwd?: string; readStdin?: () => Promise<string> } = {},
): Promise<CohortSlide[]> {
  const expander = new Expander(options.readStdin ?? readAllStdin);
  const cwd = options.cwd ?? process.cwd();
  for (const input of inputs) await expander.input(input, cwd, 'command line');
  const seen = new Set<string>();
  const taken = new Set<string>();
  const cohort: CohortSlide[] = [];
  for (const f of expander.found) {
    const real = f.problem ? f.path : await realpath(f.path).catch(() => f.path);
    if (seen.has(real)) continue;
    seen.add(real);
    const base = safeName(f.label);
    let name = base;
    // Case-insensitive, so the folders stay distinct on macOS and Windows file systems too.
    for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${base}-${n}`;
    taken.add(name.toLowerCase());
    cohort.push({ name, path: f.path, origin: f.origin, problem: f.problem });
  }
  return cohort;
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
