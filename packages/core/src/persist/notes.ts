// What the persistent cache did with each cache entry (loaded, offered, or not kept and why), kept for
// explain ("Persistent cache: …") and logged under KILN_LOGS=cache as it happens.
import { log } from '../logs/index.js';

const notes = new WeakMap<object, string>();

export function notePersist(entry: object, tag: string, text: string, logged = true): void {
  notes.set(entry, text);
  if (logged) log('cache', tag, text);
}

export const persistNote = (entry: object): string | undefined => notes.get(entry);
