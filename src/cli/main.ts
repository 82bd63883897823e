/** The `h2g` command line: one module per command, each exporting a commander Command. */
import type { Command as CommandType } from 'commander';
import { Command } from 'commander';
import { reportAndExit } from './errors';

/**
 * Each command's module, loaded only when that command runs: a command's module loads what its
 * action needs, and `h2g segment` on a small slide should not wait for gRPC (serve), ECharts and the
 * batch machinery (batch) or the model store tools (models, demo) to load (issue 17; the README's
 * performance section has the figures). Help and unknown commands load them all.
 */
const COMMANDS: Record<string, () => Promise<CommandType>> = {
  info: async () => (await import('./info')).infoCommand(),
  models: async () => (await import('./models')).modelsCommand(),
  demo: async () => (await import('./demo')).demoCommand(),
  segment: async () => (await import('./segment')).segmentCommand(),
  batch: async () => (await import('./batch')).batchCommand(),
  evaluate: async () => (await import('./evaluate')).evaluateCommand(),
  serve: async () => (await import('./serve')).serveCommand(),
};

/** The command `argv` runs (its first word that is not an option), if it names one. */
function commandOf(argv: string[]): string | undefined {
  const word = argv.slice(2).find((a) => !a.startsWith('-'));
  return word !== undefined && Object.hasOwn(COMMANDS, word) ? word : undefined;
}

/** The program with every command, or with `only` that one (what `h2g <only> ...` needs). */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('h2g')
    .description('H2G-Net breast tumour segmentation for whole-slide images')
    .option('--verbose', 'print stack traces with errors')
    .exitOverride()
    .showHelpAfterError();
  const names = only !== undefined ? [only] : Object.keys(COMMANDS);
  // Subcommands inherit exitOverride only when set before they are added.
  for (const name of names) program.addCommand((await COMMANDS[name]!()).exitOverride());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(commandOf(argv));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    reportAndExit(err, program.opts<{ verbose?: boolean }>().verbose ?? argv.includes('--verbose'));
  }
}
