/**
 * For each hash, whether an entry is held: `near` answers from memory, and what it does not know
 * is asked of `far` in one call (a LevelDB read for many keys), never once a hash
 */
export async function heldEntries (hashes: string[], near: (hash: string) => boolean, far: (hashes: string[]) => Promise<boolean[]>): Promise<boolean[]> {
  const answers = hashes.map(near)
  const ask = hashes.filter((_, i) => !answers[i])
  if (ask.length === 0) return answers
  const asked = await far(ask)
  let j = 0
  for (let i = 0; i < answers.length; i++) if (!answers[i]) answers[i] = asked[j++] === true
  return answers
}
