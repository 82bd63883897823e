/**
 * The slides of a QuPath project (`project.qpproj`, QuPath 0.2 to 0.7): each image entry's
 * `serverBuilder` names its file by URI (`{"builderType": "uri", "uri": "file:/..."}`, possibly
 * wrapped, e.g. `{"builderType": "rotated", "builder": {...}}`). Like QuPath, a file that is not where
 * the project says is looked for at the same place relative to the project, in case the project and
 * its slides were moved together (the project records the URI it was saved at).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { BatchInputError } from './errors';

export interface ProjectImage {
  /** The image's name in the project. */
  name: string;
  /** Local slide path, or null when the entry names no local file. */
  path: string | null;
  /** Why the image cannot be segmented (not a local file, several files...), or null. */
  problem: string | null;
}

const Entry = z.object({
  imageName: z.string().optional(),
  entryID: z.number().optional(),
  serverBuilder: z.unknown(),
});
const Project = z.object({
  version: z.string(),
  uri: z.string().optional(),
  images: z.array(Entry).default([]),
});

/** Every `uri` string in a server builder, nested builders included (QuPath's getURIs does the same). */
function urisIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => urisIn(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'uri' && typeof v === 'string') out.push(v);
      else urisIn(v, out);
    }
  }
  return out;
}

function relocate(file: string, savedProject: string | undefined, project: string): string {
  if (existsSync(file) || !savedProject?.startsWith('file:')) return file;
  const savedDir = path.dirname(fileURLToPath(savedProject));
  const moved = path.resolve(path.dirname(project), path.relative(savedDir, file));
  return existsSync(moved) ? moved : file;
}

export async function readQuPathProject(file: string): Promise<ProjectImage[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const reason = err instanceof SyntaxError ? 'it is not JSON' : (err as Error).message;
    throw new BatchInputError(`${file} is not a QuPath project (${reason})`);
  }
  const parsed = Project.safeParse(json);
  if (!parsed.success) {
    throw new BatchInputError(
      `${file} is not a QuPath project (a project.qpproj has "version" and an "images" list; QuPath writes it)`,
    );
  }
  const project = path.resolve(file);
  return parsed.data.images.map((entry, i) => {
    const name = entry.imageName ?? `image ${entry.entryID ?? i + 1}`;
    const uris = [...new Set(urisIn(entry.serverBuilder))];
    if (uris.length === 0) return { name, path: null, problem: 'the project entry names no image file' };
    if (uris.length > 1)
      return { name, path: null, problem: `the image is made of ${uris.length} files (${uris.join(', ')})` };
    const uri = uris[0]!;
    let local: string;
    try {
      local = fileURLToPath(uri);
    } catch {
      return { name, path: null, problem: `not a local file: ${uri}` };
    }
    return { name, path: relocate(local, parsed.data.uri, project), problem: null };
  });
}
