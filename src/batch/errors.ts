/** Errors of the batch command that stop it before any slide is processed. */

/** An input that cannot be read as a cohort (a .qpproj that is not a project...): usage error, exit 2. */
export class BatchInputError extends Error {
  override name = 'BatchInputError';
}

/** Something the whole batch needs is unusable (output folder, cache, Slurm): exit 1, nothing lost. */
export class BatchSetupError extends Error {
  override name = 'BatchSetupError';
}
