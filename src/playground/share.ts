/**
 * The playground's state in the URL fragment, so a link reproduces an exact state:
 * `#n=<scenario name>&y=<YAML>[&pin=<pinned YAML>&pn=<pinned name>][&lesson=<id>]`, each YAML raw-deflated
 * and base64url-encoded (a card scenario is ~300 characters). Works in the page and in Node ≥ 18
 * (CompressionStream, btoa/atob are globals in both), so `shardsim playground` writes the same links.
 */

export interface SharedState {
  name: string;
  yaml: string;
  pinned?: { name: string; yaml: string };
  lesson?: string;
}

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Blob([bytes as BlobPart]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export async function packText(text: string): Promise<string> {
  return toBase64Url(await pipe(new TextEncoder().encode(text), new CompressionStream('deflate-raw')));
}

export async function unpackText(packed: string): Promise<string> {
  return new TextDecoder().decode(await pipe(fromBase64Url(packed), new DecompressionStream('deflate-raw')));
}

/** The fragment (without '#') for a state. */
export async function encodeState(s: SharedState): Promise<string> {
  const p = new URLSearchParams();
  p.set('n', s.name);
  p.set('y', await packText(s.yaml));
  if (s.pinned) {
    p.set('pn', s.pinned.name);
    p.set('pin', await packText(s.pinned.yaml));
  }
  if (s.lesson) p.set('lesson', s.lesson);
  return p.toString();
}

/** The state in a fragment (with or without '#'); undefined when it carries none or cannot be read. */
export async function decodeState(fragment: string): Promise<SharedState | undefined> {
  const p = new URLSearchParams(fragment.replace(/^#/, ''));
  const y = p.get('y');
  if (!y) return undefined;
  try {
    const state: SharedState = { name: p.get('n') || 'scenario', yaml: await unpackText(y) };
    const pin = p.get('pin');
    if (pin) state.pinned = { name: p.get('pn') || 'pinned', yaml: await unpackText(pin) };
    const lesson = p.get('lesson');
    if (lesson) state.lesson = lesson;
    return state;
  } catch {
    return undefined;
  }
}
