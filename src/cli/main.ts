/** The `h2g` command line: one module per command, each exporting a commander Command. */
import { Command } from 'commander';
import { batchCommand } from './batch';
import { reportAndExit } from './errors';
import { demoCommand } from './demo';
import { evaluateCommand } from './evaluate';
import { infoCommand } from './info';
import { modelsCommand } from './models';
import { segmentCommand } from './segment';
import { serveCommand } from './serve';

export function buildProgram(): Command {
  const program = new Command('h2g')
    .description('H2G-Net breast tumour segmentation for whole-slide images')
    .option('--verbose', 'print stack traces with errors')
    .exitOverride()
    .showHelpAfterError();
  // Subcommands inherit exitOverride only when set before they are added.
  program.addCommand(infoCommand().exitOverride());
  program.addCommand(modelsCommand().exitOverride());
  program.addCommand(demoCommand().exitOverride());
  program.addCommand(segmentCommand().exitOverride());
  program.addCommand(batchCommand().exitOverride());
  program.addCommand(evaluateCommand().exitOverride());
  program.addCommand(serveCommand().exitOverride());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    reportAndExit(err, program.opts<{ verbose?: boolean }>().verbose ?? argv.includes('--verbose'));
  }
}
