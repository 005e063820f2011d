import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearHardwareProfileCache, hardwareProfilesDir } from './load.ts';
import { hardwareProfileSchema } from './profile-schema.ts';
import type { HardwareProfile } from './types.ts';

/**
 * Writing bundled profiles back, for the fit scripts: JSON with two-space indent and numeric arrays (the
 * kernel tables) kept on one line. A profile that no longer passes the schema is refused before anything
 * is written.
 */
export function formatProfileJson(profile: unknown): string {
  let s = JSON.stringify(profile, null, 2) + '\n';
  s = s.replace(/\[\s*((?:-?[0-9.e+-]+\s*,\s*)*-?[0-9.e+-]+)\s*\]/g, (_, body: string) => '[' + body.split(',').map((x) => x.trim()).join(', ') + ']');
  s = s.replace(/\[\s*((?:\[[^[\]]*\]\s*,\s*)*\[[^[\]]*\])\s*\]/g, (_, body: string) => '[' + (body.match(/\[[^[\]]*\]/g) ?? []).join(', ') + ']');
  return s;
}

/** The raw (unfrozen, editable) JSON of a bundled profile. */
export function readProfileJson(id: string): HardwareProfile {
  return JSON.parse(readFileSync(join(hardwareProfilesDir(), `${id}.json`), 'utf8')) as HardwareProfile;
}

/** Validates every edited profile, then writes them all (one write per file) and clears the cache. */
export function writeProfiles(profiles: HardwareProfile[]): string[] {
  for (const p of profiles) {
    const r = hardwareProfileSchema.safeParse(p);
    if (!r.success) throw new Error(`refusing to write ${p.id}: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`);
  }
  const paths = profiles.map((p) => {
    const path = join(hardwareProfilesDir(), `${p.id}.json`);
    writeFileSync(path, formatProfileJson(p));
    return path;
  });
  clearHardwareProfileCache();
  return paths;
}
