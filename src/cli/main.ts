/** The `h2g` command line: parses arguments with commander and dispatches to one module per command. */
import { Command } from 'commander';
import { reportAndExit } from './errors';
import { formatSlideInfo, readSlideInfo } from './info';

export function buildProgram(): Command {
  const program = new Command('h2g')
    .description('H2G-Net breast tumour segmentation for whole-slide images')
    .option('--verbose', 'print stack traces with errors')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('info')
    .description("print a slide's vendor, size, levels, pixel size, objective power and bounds")
    .argument('<slide>', 'path to a whole-slide image OpenSlide can read')
    .option('--json', 'print one JSON object')
    .action(async (slide: string, opts: { json?: boolean }) => {
      const info = await readSlideInfo(slide);
      process.stdout.write(opts.json ? `${JSON.stringify(info)}\n` : formatSlideInfo(info));
    });

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
