import path from 'node:path';
import { dataFileNames, dataFolderPath, pathKind, readDataFile, readTextFile } from '../io/files.ts';
import { closest, ShardsimError } from '../util/errors.ts';
import { hardwareProfileSchema } from './profile-schema.ts';
import type { HardwareProfile } from './types.ts';

const CONFIG_KEY = 'simulation.hardware';

/** Loaded profiles by absolute file path. Profiles are deep-frozen, so sharing them is safe. */
const cache = new Map<string, HardwareProfile>();

/** Absolute path of the bundled hardware-profiles/ folder. */
export function hardwareProfilesDir(): string {
  return dataFolderPath('hardware-profiles');
}

/** Ids of the bundled profiles (file names without `.json`), sorted. */
export function listHardwareIds(): string[] {
  return dataFileNames('hardware-profiles')
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** True when `ref` should be read as a file path rather than a bundled profile id. */
function isPathRef(ref: string): boolean {
  return ref.endsWith('.json') || ref.includes('/') || ref.includes(path.sep);
}

/**
 * Loads and validates a hardware profile: either a bundled id (`dgx-h100` → hardware-profiles/dgx-h100.json)
 * or a path to a .json file. Results are cached and deep-frozen: clone before modifying.
 * Throws ShardsimError (key `simulation.hardware`) for an unknown id, a missing or unreadable file,
 * invalid JSON, or a schema violation (the message names the file and the dotted key).
 */
export function loadHardwareProfile(ref: string): HardwareProfile {
  let file: string;
  let expectedId: string | undefined;
  let read: () => string;
  if (isPathRef(ref)) {
    file = path.resolve(ref);
    // Bounded, regular files only, UTF-8 only (util/read-text.ts through the I/O seam).
    read = () => readTextFile(file, { what: 'hardware profile', key: CONFIG_KEY, fix: 'give a bundled profile id (run `shardsim list hardware`) or a path to a .json file', heapBytesPerByte: 10 });
    if (pathKind(file) === undefined) {
      throw new ShardsimError(`hardware profile file not found: ${file}`, {
        key: CONFIG_KEY,
        fix: 'give a bundled profile id (run `shardsim list hardware`) or a path to an existing .json file',
      });
    }
  } else {
    // A bundled id loaded before was listed then: skip listing the folder again (sweeps load one per config).
    const known = cache.get(path.join(hardwareProfilesDir(), `${ref}.json`));
    if (known) return known;
    const ids = listHardwareIds();
    if (!ids.includes(ref)) {
      throw new ShardsimError(`unknown hardware profile "${ref}"`, {
        key: CONFIG_KEY,
        fix: `did you mean ${closest(ref, ids).join(', ')}? Run \`shardsim list hardware\``,
      });
    }
    file = path.join(hardwareProfilesDir(), `${ref}.json`);
    read = () => readDataFile('hardware-profiles', `${ref}.json`);
    expectedId = ref;
  }

  const cached = cache.get(file);
  if (cached) return cached;

  const profile = parseProfileFile(file, read);
  if (expectedId !== undefined && profile.id !== expectedId) {
    throw new ShardsimError(`invalid hardware profile ${file}: id: "${profile.id}" does not match the file name`, {
      key: CONFIG_KEY,
      fix: `set "id" to "${expectedId}"`,
    });
  }
  deepFreeze(profile);
  cache.set(file, profile);
  return profile;
}

/** Forgets cached profiles (for tests that rewrite profile files). */
export function clearHardwareProfileCache(): void {
  cache.clear();
}

function parseProfileFile(file: string, read: () => string): HardwareProfile {
  const text = read();
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ShardsimError(`invalid JSON in hardware profile ${file}: ${(err as Error).message}`, {
      key: CONFIG_KEY,
    });
  }
  const result = hardwareProfileSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const parts = issue.path.map(String);
    // For unknown keys zod reports the parent object's path and lists the keys separately.
    if (issue.code === 'unrecognized_keys') parts.push(issue.keys[0] ?? '');
    const dotted = parts.length > 0 ? joinDotted(parts) : '(root)';
    const more = result.error.issues.length > 1 ? ` (+${result.error.issues.length - 1} more problem(s))` : '';
    throw new ShardsimError(`invalid hardware profile ${file}: ${dotted}: ${issue.message}${more}`, {
      key: CONFIG_KEY,
      fix: 'see src/hardware/types.ts for every field and its unit',
    });
  }
  return result.data;
}

/** Joins a zod issue path; source keys already contain dots, so `sources` + "gpu.memory_bytes" stays readable. */
function joinDotted(parts: string[]): string {
  if (parts[0] === 'sources' && parts.length === 2) return `sources["${parts[1]}"]`;
  return parts.join('.');
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}
