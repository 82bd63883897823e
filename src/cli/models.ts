/**
 * `h2g models pull|import|list|verify|default|quantize`: install, inspect and re-check model sets in the
 * per-user cache. Results go to stdout, progress and warnings to stderr.
 */
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { importModels } from '../models/import';
import { ModelError } from '../models/errors';
import { describeItem, FAST_HUB_URL, fastDatahubFolder, HUB_URL_ENV, importFastFolder } from '../models/hub';
import { DEFAULT_URL_BASE, MODELS_URL_ENV, pullPublished } from '../models/pull';
import { defaultModelSetName, howToInstall } from '../models/select';
import { listInstalledSets, modelsHome, readInstalledSet, writeDefaultMarker } from '../models/store';
import { formatListing, toListing } from '../models/store-format';
import { verifyInstalledSet } from '../models/verify';
import { type CliIo, processIo, reportInstall } from './io';
import { quantizeCommand } from './models-quantize';

export { type CliIo, processIo } from './io';

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

/** A progress bar when stderr is a terminal; otherwise one line per file, which logs read better. */
function downloadReporter(io: CliIo) {
  let bar: SingleBar | null = null;
  let started = false;
  return {
    onFileStart: (file: string, url: string) => {
      io.stderr.write(`downloading ${url}\n`);
      started = false;
      if (io.stderr.isTTY) {
        bar = new SingleBar({
          stream: io.stderr,
          format: `${file.slice(0, 28).padEnd(28)} [{bar}] {percentage}% | {mbValue}/{mbTotal} MB | ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: false,
        });
      }
    },
    onProgress: (_file: string, received: number, total: number | null) => {
      // Without a Content-Length there is no bar to fill; the line per file still reports the size.
      if (!bar || total === null) return;
      const payload = { mbValue: mb(received), mbTotal: mb(total) };
      if (!started) bar.start(total, received, payload);
      else bar.update(received, payload);
      started = true;
    },
    onFileDone: (file: string, bytes: number) => {
      if (started) bar?.stop();
      bar = null;
      if (!started) io.stderr.write(`  ${file}: ${bytes.toLocaleString('en-US')} bytes\n`);
    },
    stop: () => {
      if (started) bar?.stop();
    },
  };
}

function pullCommand(io: CliIo): Command {
  return new Command('pull')
    .description(
      "install the published H2G-Net weights: FastPathology's copy in ~/FAST/datahub if there is one (no network), " +
        "else FAST's Data Hub, else the authors' GitHub release",
    )
    .option('--dest <dir>', 'models home to install into (default: $H2G_MODELS_HOME, else the XDG cache)')
    .option(
      '--url-base <url>',
      `where the release's two files are served (default: $${MODELS_URL_ENV}, else the release)`,
    )
    .option('--hub-url <url>', `FAST's Data Hub (default: $${HUB_URL_ENV}, else ${FAST_HUB_URL})`)
    .option('--no-hub', "skip FastPathology's folder and FAST's Data Hub: the GitHub release only")
    .option('--name <name>', 'name of the installed set', 'published')
    .action(async (opts: { dest?: string; urlBase?: string; hubUrl?: string; hub: boolean; name: string }) => {
      const reporter = downloadReporter(io);
      try {
        const result = await pullPublished({
          home: modelsHome(io.env, opts.dest),
          urlBase: opts.urlBase ?? io.env[MODELS_URL_ENV] ?? DEFAULT_URL_BASE,
          hubUrl: opts.hub ? (opts.hubUrl ?? io.env[HUB_URL_ENV] ?? FAST_HUB_URL) : null,
          env: io.env,
          name: opts.name,
          ...reporter,
          onSource: (what) => io.stderr.write(`trying ${what}\n`),
          onSourceFailed: (what, reason) => io.stderr.write(`${what} did not work: ${reason}\n`),
          onHubItem: (item) => io.stdout.write(`FAST Data Hub: ${describeItem(item)}\n`),
        });
        if (result.from.kind === 'fast-folder') {
          io.stdout.write(
            `from FastPathology's folder ${result.from.location}` +
              (result.from.item ? ` (${describeItem(result.from.item)})` : '') +
              '\n',
          );
        }
        reportInstall(io, 'installed', result);
      } finally {
        reporter.stop();
      }
    });
}

function importCommand(io: CliIo): Command {
  return new Command('import')
    .description(
      'install model files obtained another way (a folder, or the two .onnx files) with the same checks; ' +
        `without paths, FastPathology's ${fastDatahubFolder(io.env)}`,
    )
    .argument('[paths...]', 'a folder holding the two models, or the two .onnx files')
    .option('--name <name>', 'name of the installed set', 'imported')
    .option('--dest <dir>', 'models home to install into (default: $H2G_MODELS_HOME, else the XDG cache)')
    .action(async (paths: string[], opts: { name: string; dest?: string }) => {
      const home = modelsHome(io.env, opts.dest);
      const result =
        paths.length > 0
          ? await importModels(paths, { home, name: opts.name })
          : await importFastFolder({ home, name: opts.name, env: io.env });
      if (!result) {
        throw new ModelError(
          'MODEL_NOT_FOUND',
          `give a folder or the two files; FastPathology's ${fastDatahubFolder(io.env)} does not exist`,
        );
      }
      for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
      reportInstall(io, 'imported', result);
    });
}

async function currentDefault(env: NodeJS.ProcessEnv): Promise<string | null> {
  return defaultModelSetName(env).catch(() => null);
}

function listCommand(io: CliIo): Command {
  return new Command('list')
    .description('show installed model sets: directory, digests, source, date, demo flag, default')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const home = modelsHome(io.env);
      const def = await currentDefault(io.env);
      const sets = (await listInstalledSets(home)).map((s) => toListing(s, def));
      if (opts.json) {
        io.stdout.write(`${JSON.stringify({ home, default: def, sets })}\n`);
      } else if (sets.length === 0) {
        io.stdout.write(`${howToInstall(home)}\n`);
      } else {
        io.stdout.write(formatListing(home, sets));
      }
    });
}

function verifyCommand(io: CliIo): Command {
  return new Command('verify')
    .description('re-check installed sets (sizes, SHA-256, input/output contract); exit 1 if any fails')
    .argument('[name]', 'one set (default: all installed sets)')
    .action(async (name: string | undefined) => {
      const home = modelsHome(io.env);
      const sets = name ? [await readInstalledSet(home, name)] : await listInstalledSets(home);
      if (sets.length === 0) throw new Error(howToInstall(home));
      let failed = 0;
      for (const set of sets) {
        if (!set) throw new Error(`no model set '${name}' is installed in ${home} (see h2g models list)`);
        const r = await verifyInstalledSet(set);
        if (!r.ok) failed += 1;
        io.stdout.write(
          r.ok ? `OK    ${r.name}  ${r.directory}\n` : `FAIL  ${r.name}  ${r.directory}\n      ${r.problem}\n`,
        );
      }
      if (failed > 0) throw new Error(`${failed} of ${sets.length} model set(s) failed verification`);
    });
}

function defaultCommand(io: CliIo): Command {
  return new Command('default')
    .description('show the model set used when none is named, or make NAME the default')
    .argument('[name]', 'installed set to use by default')
    .action(async (name: string | undefined) => {
      const home = modelsHome(io.env);
      if (name) await writeDefaultMarker(home, name);
      io.stdout.write(`${name ?? (await defaultModelSetName(io.env))}\n`);
    });
}

export function modelsCommand(io: CliIo = processIo()): Command {
  const models = new Command('models').description(
    'install, list and verify H2G-Net model sets (cache: $H2G_MODELS_HOME, else $XDG_CACHE_HOME/h2gnet/models)',
  );
  // exitOverride on each: commander errors then reach main()'s handler instead of exiting here.
  for (const sub of [pullCommand, importCommand, listCommand, verifyCommand, defaultCommand, quantizeCommand]) {
    models.addCommand(sub(io).exitOverride());
  }
  return models;
}
