/** Text and JSON views of installed model sets, for `h2g models list` and `pull`/`import` reports. */
import type { Manifest } from './manifest';
import type { InstalledSet } from './store';

export interface SetListing {
  name: string;
  directory: string;
  default: boolean;
  demo: boolean;
  source: string | null;
  installedAt: string | null;
  description: string | null;
  precision: 'float32' | 'int8';
  /** For an int8 set: the float32 set's name when quantized, and the recorded mask Dice against it. */
  quantizedFrom: { set: string; maskDice: number | null; forced: boolean } | null;
  files: { role: 'patch' | 'refinement'; file: string; sha256: string | null; size: number | null }[];
  problem: string | null;
}

export function manifestFiles(m: Manifest): SetListing['files'] {
  return (['patch', 'refinement'] as const).map((role) => ({
    role,
    file: m.files[role].file,
    sha256: m.files[role].sha256 ?? null,
    size: m.files[role].size ?? null,
  }));
}

export function toListing(set: InstalledSet, defaultName: string | null): SetListing {
  const m = set.manifest;
  return {
    name: set.name,
    directory: set.directory,
    default: set.name === defaultName,
    demo: m?.demo ?? false,
    source: m?.source ?? null,
    installedAt: m?.installedAt ?? null,
    description: m?.description ?? null,
    precision: m?.precision ?? 'float32',
    quantizedFrom: m?.quantization
      ? {
          set: m.quantization.quantizedFrom.set,
          maskDice: m.quantization.agreement?.maskDice ?? null,
          forced: m.quantization.agreement?.forced ?? false,
        }
      : null,
    files: m ? manifestFiles(m) : [],
    problem: set.problem,
  };
}

const n = (v: number | null): string => (v === null ? '? bytes' : `${v.toLocaleString('en-US')} bytes`);

export const DEMO_LABEL = 'DEMO WEIGHTS: untrained, results mean nothing clinically';

export function formatFiles(files: SetListing['files']): string[] {
  return files.map(
    (f) => `    ${`${f.role}:`.padEnd(12)}${f.file}  ${n(f.size)}  sha256 ${f.sha256 ?? '(not recorded)'}`,
  );
}

export function formatListing(home: string, sets: SetListing[]): string {
  const lines = [`models home: ${home}`];
  for (const s of sets) {
    const tags = [s.default ? '(default)' : '', s.demo ? `[${DEMO_LABEL}]` : ''].filter(Boolean).join(' ');
    lines.push(`${s.default ? '*' : ' '} ${s.name}${tags ? `  ${tags}` : ''}`);
    lines.push(`    directory:  ${s.directory}`);
    if (s.problem) {
      lines.push(`    PROBLEM:    ${s.problem}`);
      continue;
    }
    lines.push(`    source:     ${s.source ?? 'unknown'}`);
    lines.push(`    installed:  ${s.installedAt ?? 'unknown'}`);
    const q = s.quantizedFrom;
    lines.push(
      `    precision:  ${s.precision}` +
        (q
          ? ` (quantized from '${q.set}'; refined-mask Dice against it ${q.maskDice?.toFixed(4) ?? 'not measured'}` +
            `${q.forced ? ', installed with --force' : ''})`
          : ''),
    );
    lines.push(...formatFiles(s.files));
  }
  return `${lines.join('\n')}\n`;
}
