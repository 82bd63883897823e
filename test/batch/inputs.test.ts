/** Cohort inputs: folders, lists, stdin, QuPath projects (made by the real QuPath), names, bad inputs. */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BatchInputError } from '../../src/batch/errors';
import { expandInputs } from '../../src/batch/inputs';
import { readQuPathProject } from '../../src/batch/qupath-project';
import { BROKEN_SVS, CMU_SMALL, ROOT } from '../helpers/paths';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'h2g-inputs-'));
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'qupath-project', 'project.qpproj');

function touch(file: string, content = 'x'): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

describe('folders and lists', () => {
  const root = path.join(tmp, 'tree');
  beforeAll(() => {
    touch(path.join(root, 'b.svs'));
    touch(path.join(root, 'a', 'x.ndpi'));
    touch(path.join(root, 'a', 'deeper', 'y.TIF'));
    touch(path.join(root, 'a', 'notes.txt'));
    touch(path.join(root, '.hidden', 'z.svs'));
    touch(path.join(root, 'c', 'x.mrxs')); // same base name as a/x.ndpi
    symlinkSync(path.join(root, 'a'), path.join(root, 'loop')); // a folder link: not followed
  });

  test('a folder is searched recursively for OpenSlide extensions, in name order, hidden entries skipped', async () => {
    const cohort = await expandInputs([root]);
    expect(cohort.map((s) => path.relative(root, s.path))).toEqual([
      path.join('a', 'deeper', 'y.TIF'),
      path.join('a', 'x.ndpi'),
      'b.svs',
      path.join('c', 'x.mrxs'),
    ]);
    expect(cohort.map((s) => s.name)).toEqual(['y', 'x', 'b', 'x-2']);
    expect(cohort.every((s) => s.problem === null && s.origin === root)).toBe(true);
  });

  test('a list: comments, blank lines, paths relative to the list, missing files kept with a problem', async () => {
    const list = touch(
      path.join(tmp, 'lists', 'cohort.txt'),
      ['# my cohort', '', '../tree/b.svs', `  ${path.join(root, 'a')}  `, 'gone.svs', ''].join('\n'),
    );
    const cohort = await expandInputs([list]);
    expect(cohort.map((s) => s.name)).toEqual(['b', 'y', 'x', 'gone']);
    expect(cohort[3]!.problem).toBe(`file not found: ${path.join(tmp, 'lists', 'gone.svs')}`);
    expect(cohort[0]!.origin).toBe(list);
  });

  test('the same file reached twice is one slide; the list may come on stdin', async () => {
    const cohort = await expandInputs([path.join(root, 'b.svs'), '-'], {
      readStdin: async () => `${path.join(root, 'b.svs')}\n${path.join(root, 'a', 'x.ndpi')}\n`,
    });
    expect(cohort.map((s) => s.name)).toEqual(['b', 'x']);
    expect(cohort[1]!.origin).toBe('stdin');
  });

  test('a binary file that is no slide, and a folder without slides, stop the batch with a clear message', async () => {
    const binary = touch(path.join(tmp, 'image.png'), '\x89PNG\r\n\x1a\n\0\0\0');
    await expect(expandInputs([binary])).rejects.toThrow(
      new BatchInputError(
        `${binary} is not a slide OpenSlide reads (by its extension: .svs .tif .tiff .ndpi .vms .vmu .scn .mrxs .svslide .bif), a folder, a text list of paths or a QuPath project`,
      ),
    );
    const empty = path.join(tmp, 'empty');
    mkdirSync(empty);
    await expect(expandInputs([empty])).rejects.toThrow(`no slides in folder ${empty}`);
  });

  test('names are safe folder names, unique without regard to case', async () => {
    const dir = path.join(tmp, 'names');
    touch(path.join(dir, 'one', 'Case 1: A|B.svs'));
    touch(path.join(dir, 'two', 'case 1: a|b.svs'));
    const cohort = await expandInputs([dir]);
    expect(cohort.map((s) => s.name)).toEqual(['Case 1_ A_B', 'case 1_ a_b-2']);
  });
});

describe('QuPath projects', () => {
  test("the images of a project QuPath 0.6 wrote (scripts/make-qupath-project.sh), by their files' URIs", async () => {
    const images = await readQuPathProject(FIXTURE);
    expect(images.map((i) => [i.name, i.path && path.basename(i.path), i.problem])).toEqual([
      ['CMU-1-Small-Region.svs', 'CMU-1-Small-Region.svs', null],
      ['broken.svs', 'broken.svs', null],
      ['no-such-slide.svs', 'no-such-slide.svs', null],
    ]);
    // Found where the slides are here, wherever this checkout lives (relative to the project, as QuPath does).
    expect(readFileSync(images[0]!.path!).equals(readFileSync(CMU_SMALL))).toBe(true);
    const cohort = await expandInputs([FIXTURE]);
    expect(cohort.map((s) => [s.name, s.problem === null || s.problem.startsWith('file not found')])).toEqual([
      ['CMU-1-Small-Region', true],
      ['broken', true],
      ['no-such-slide', true],
    ]);
    expect(cohort[2]!.problem).toBe(`file not found: ${images[2]!.path} (listed in ${FIXTURE})`);
  });

  test('a project moved together with its slides finds them relative to its new place', async () => {
    const before = path.join(tmp, 'site-a');
    mkdirSync(path.join(before, 'slides'), { recursive: true });
    copyFileSync(CMU_SMALL, path.join(before, 'slides', 'cmu.svs'));
    const project = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    project.uri = `file:${before}/project/project.qpproj`;
    project.images = [project.images[0]];
    project.images[0].serverBuilder.uri = `file:${before}/slides/cmu.svs`;
    touch(path.join(before, 'project', 'project.qpproj'), JSON.stringify(project));
    const after = path.join(tmp, 'site-b');
    renameSync(before, after);
    const [image] = await readQuPathProject(path.join(after, 'project', 'project.qpproj'));
    expect(image!.path).toBe(path.join(after, 'slides', 'cmu.svs'));
  });

  test('wrapped builders are unwrapped; remote images and multi-file images are named as problems', async () => {
    const project = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    const inner = { ...project.images[1].serverBuilder, uri: `file:${BROKEN_SVS}` };
    project.images[0].serverBuilder = { builderType: 'rotated', rotation: 'ROTATE_90', builder: inner };
    project.images[1].serverBuilder = { builderType: 'uri', uri: 'https://omero.example.org/webclient/img/1' };
    project.images[2].serverBuilder = {
      builderType: 'channels',
      builders: [
        { builderType: 'uri', uri: 'file:/data/c1.tif' },
        { builderType: 'uri', uri: 'file:/data/c2.tif' },
      ],
    };
    const file = touch(path.join(tmp, 'wrapped', 'project.qpproj'), JSON.stringify(project));
    const images = await readQuPathProject(file);
    expect(images[0]!.path).toBe(path.resolve(path.dirname(BROKEN_SVS), 'broken.svs'));
    expect(images[1]!.problem).toBe('not a local file: https://omero.example.org/webclient/img/1');
    expect(images[2]!.problem).toBe('the image is made of 2 files (file:/data/c1.tif, file:/data/c2.tif)');
  });

  test('a .qpproj that is not a project stops the batch with a clear message', async () => {
    const notJson = touch(path.join(tmp, 'bad1.qpproj'), 'not json at all');
    await expect(expandInputs([notJson])).rejects.toThrow(`${notJson} is not a QuPath project (it is not JSON)`);
    const otherJson = touch(path.join(tmp, 'bad2.qpproj'), JSON.stringify({ name: 'something else' }));
    await expect(expandInputs([otherJson])).rejects.toThrow(
      `${otherJson} is not a QuPath project (a project.qpproj has "version" and an "images" list; QuPath writes it)`,
    );
  });
});
