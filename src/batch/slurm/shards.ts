/**
 * Splits the slides to run into array tasks of about equal bytes (greedy, largest first: the classic
 * longest-processing-time rule, with file size standing in for time). Slides of equal size always go
 * to the same task: identical content has identical size, so a duplicate is computed once, by the
 * task that holds both, without hashing anything on the submitting host.
 */
export function assignShards(sizes: readonly number[], tasks: number): number[] {
  const groups = new Map<number, number[]>();
  sizes.forEach((size, i) => groups.set(size, [...(groups.get(size) ?? []), i]));
  const ordered = [...groups.entries()].sort((a, b) => b[0] * b[1].length - a[0] * a[1].length);
  const load = new Array<number>(Math.max(1, Math.min(tasks, ordered.length))).fill(0);
  const shard = new Array<number>(sizes.length).fill(0);
  for (const [size, members] of ordered) {
    let best = 0;
    for (let t = 1; t < load.length; t++) if (load[t]! < load[best]!) best = t;
    load[best]! += size * members.length;
    for (const i of members) shard[i] = best;
  }
  return shard;
}
