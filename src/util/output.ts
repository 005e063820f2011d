import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ShardsimError } from './errors.ts';

/**
 * Where commands write. Every output path is checked and claimed before the work starts, so a run never
 * computes for minutes and then fails to save: folders are created (without `mkdirSync({recursive})`,
 * which never returns on /proc/x under Node 20), a lock file claims them against a concurrent run, and
 * files are written to a temporary name in the same folder and renamed into place (a reader never sees
 * half a file; a crash leaves the old one).
 */

/** Why a file-system call failed, in words. */
function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const words: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    ENOENT: 'no such file or folder (or a file system that cannot hold one, like /proc)',
    ENOTDIR: 'a part of the path is a file, not a folder',
    EISDIR: 'it is a folder',
    EEXIST: 'it already exists',
    ENAMETOOLONG: 'the name is too long',
    EIO: 'input/output error',
  };
  return (code && words[code]) ?? (e as Error)?.message?.split('\n')[0] ?? String(e);
}

/** A failure to write an output: one line naming the flag and the path (exit 2, like bad input). */
export function outputError(flag: string, path: string, what: string, fix?: string): ShardsimError {
  return new ShardsimError(`${flag} "${path}": ${what}`, fix ? { fix } : {});
}

type Kind = 'missing' | 'dir' | 'file' | 'special';
function kindOf(path: string): Kind {
  try {
    const st = statSync(path);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'special';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw new Error(reason(e));
    throw e;
  }
}

/**
 * Creates `dir` and its missing parents one level at a time. Returns the folders it created (outermost
 * first), for removal if they stay empty. Throws the file-system error of the first level that fails.
 */
export function makeDirs(dir: string): string[] {
  const abs = resolve(dir);
  const missing: string[] = [];
  let at = abs;
  for (;;) {
    const k = kindOf(at);
    if (k === 'dir') break;
    if (k !== 'missing') throw Object.assign(new Error(`${at} is a file`), { code: 'ENOTDIR' });
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  const created: string[] = [];
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    created.push(d);
  }
  return created;
}

let tempCounter = 0;
const tempName = (path: string) => join(dirname(path), `.${basename(path)}.${process.pid}.${++tempCounter}.tmp`);

/** An error thrown while producing a piece of the data (a bug, not a file-system failure): rethrown as is. */
class DataError {
  constructor(readonly cause: unknown) {}
}

/** Characters of text encoded at a time: at most 3 UTF-8 bytes each, so a piece fits TEXT_BUFFER_BYTES. */
const TEXT_PIECE_CHARS = 1 << 18;
const TEXT_BUFFER_BYTES = 3 * TEXT_PIECE_CHARS;
let textBuffer: Buffer | undefined;

/**
 * Writes `text` as UTF-8 through one reused buffer. writeFileSync would encode a report's multi-MB text
 * (a 16-GPU timeline spec is ~4 MB) into a new buffer of its size each time: fresh pages the kernel maps
 * and zeroes, ~40% of the write's CPU time.
 */
function writeText(fd: number, text: string): void {
  textBuffer ??= Buffer.allocUnsafeSlow(TEXT_BUFFER_BYTES);
  for (let at = 0; at < text.length; ) {
    let end = Math.min(text.length, at + TEXT_PIECE_CHARS);
    // Never between the two halves of a surrogate pair: each half alone would be written as U+FFFD.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    const bytes = textBuffer.write(text.slice(at, end));
    // writeSync may write less than asked (a pipe): loop until the piece is out.
    for (let done = 0; done < bytes; ) done += writeSync(fd, textBuffer, done, bytes - done);
    at = end;
  }
}

/** Text pieces are written as they come (a large file never held whole in memory). */
function writeData(path: string, data: string | Uint8Array | Iterable<string>, flag: 'w' | 'wx'): void {
  if (data instanceof Uint8Array) {
    writeFileSync(path, data, { flag });
    return;
  }
  const fd = openSync(path, flag);
  try {
    if (typeof data === 'string') {
      writeText(fd, data);
      return;
    }
    const pieces = data[Symbol.iterator]();
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = pieces.next();
      } catch (e) {
        throw new DataError(e);
      }
      if (next.done) break;
      writeText(fd, next.value);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a file atomically: a temporary file in the same folder, then a rename over the target. A
 * character device or FIFO (`/dev/null`, `/dev/stdout`) is written directly: renaming over it would
 * replace the device. Failures are one line naming the path.
 * `data` may come in text pieces (an iterable), written as they come.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array | Iterable<string>, flag = 'output'): void {
  let k: Kind;
  try {
    k = kindOf(path);
  } catch (e) {
    throw outputError(flag, path, `cannot write (${reason(e)})`);
  }
  if (k === 'dir') throw outputError(flag, path, 'is a folder, not a file', 'give a file path');
  if (k === 'special') {
    try {
      writeData(path, data, 'w');
    } catch (e) {
      if (e instanceof DataError) throw e.cause;
      throw outputError(flag, path, `cannot write (${reason(e)})`);
    }
    return;
  }
  const tmp = tempName(path);
  try {
    writeData(tmp, data, 'wx');
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* never created */
    }
    if (e instanceof DataError) throw e.cause;
    throw outputError(flag, path, `cannot write (${reason(e)})`);
  }
}

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

/** Held locks and created folders, released when the process exits (any way Node still runs handlers). */
const held = new Set<{ release: () => void }>();
let exitHookInstalled = false;
function track(h: { release: () => void }): void {
  held.add(h);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', releaseOutputs);
  }
}

/** Releases every lock this process holds and removes the folders it created that stayed empty. */
export function releaseOutputs(): void {
  for (const h of [...held]) h.release();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims `lockPath` with an exclusive create. A lock left by a process that is gone (same host, pid not
 * running) is taken over; a live one means another run is writing there.
 */
function claimLock(lockPath: string, flag: string, target: string): () => void {
  const me: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath, JSON.stringify(me) + '\n', { flag: 'wx' });
      return () => {
        try {
          const now = JSON.parse(readFileSync(lockPath, 'utf8')) as LockInfo;
          if (now.pid === me.pid && now.host === me.host) unlinkSync(lockPath);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw outputError(flag, target, `cannot write there (${reason(e)})`, 'choose a folder you can write to');
    }
    let other: LockInfo | undefined;
    try {
      other = JSON.parse(readFileSync(lockPath, 'utf8')) as LockInfo;
    } catch {
      other = undefined;
    }
    const stale = other !== undefined && other.host === me.host && other.pid !== me.pid && !alive(other.pid);
    if (other && !stale) {
      if (other.pid === me.pid && other.host === me.host) return () => {};
      throw outputError(flag, target, `another shardsim run (pid ${other.pid} on ${other.host}, started ${other.started}) is writing there`, `wait for it, choose another path, or delete ${lockPath} if no run is using it`);
    }
    if (!other) throw outputError(flag, target, `is locked by ${lockPath}, which cannot be read`, `delete ${lockPath} if no run is using it`);
    try {
      unlinkSync(lockPath);
    } catch {
      /* raced with its owner's cleanup */
    }
  }
  throw outputError(flag, target, 'could not be locked', 'retry');
}

export interface OutputDir {
  /** The folder as the user gave it. */
  path: string;
  release(): void;
}

/**
 * Checks and claims a report folder before any work: it must be a folder or creatable (not a file, not
 * /dev/null, not under /proc, writable), and no other run may be writing to it.
 */
export function prepareOutputDir(dir: string, flag: string): OutputDir {
  let created: string[];
  try {
    const k = kindOf(dir);
    if (k === 'file' || k === 'special') throw outputError(flag, dir, `is ${k === 'file' ? 'a file' : 'a device or special file'}, not a folder`, 'give a folder path (it is created if missing)');
    created = makeDirs(dir);
  } catch (e) {
    if (e instanceof ShardsimError) throw e;
    throw outputError(flag, dir, `cannot create the folder (${reason(e)})`, 'choose a folder you can write to');
  }
  let unlock: () => void;
  try {
    unlock = claimLock(join(dir, '.shardsim.lock'), flag, dir);
  } catch (e) {
    removeEmpty(created);
    throw e;
  }
  const handle = {
    path: dir,
    release: () => {
      held.delete(handle);
      unlock();
      removeEmpty(created);
    },
  };
  track(handle);
  return handle;
}

function removeEmpty(created: string[]): void {
  for (const d of [...created].reverse()) {
    try {
      if (readdirSync(d).length === 0) rmdirSync(d);
    } catch {
      /* not empty or gone */
    }
  }
}

export interface OutputFile {
  path: string;
  /** Writes the whole content atomically. */
  write(data: string): void;
  release(): void;
}

/**
 * Checks and claims an output file before any work: its folder must exist and be writable (probed with
 * the lock file), it must not be a folder, and no other run may be writing it. Devices (`/dev/null`) are
 * accepted and written directly.
 */
export function prepareOutputFile(path: string, flag: string): OutputFile {
  let k: Kind;
  try {
    k = kindOf(path);
  } catch (e) {
    throw outputError(flag, path, `cannot write (${reason(e)})`);
  }
  if (k === 'dir') throw outputError(flag, path, 'is a folder, not a file', `give a file path, e.g. ${join(path, basename(flag.replace(/^--/, 'out.')))}`);
  const parent = dirname(resolve(path));
  if (k === 'special') {
    const handle = { path, write: (data: string) => writeFileAtomic(path, data, flag), release: () => held.delete(handle) };
    return handle;
  }
  let pk: Kind;
  try {
    pk = kindOf(parent);
  } catch (e) {
    throw outputError(flag, path, `cannot write (${reason(e)})`);
  }
  if (pk !== 'dir') throw outputError(flag, path, `the folder ${parent} does not exist`, `create it first (mkdir -p ${parent}) or choose another path`);
  const unlock = claimLock(join(parent, `.${basename(path)}.shardsim.lock`), flag, path);
  const handle = {
    path,
    write: (data: string) => writeFileAtomic(path, data, flag),
    release: () => {
      held.delete(handle);
      unlock();
    },
  };
  track(handle);
  return handle;
}

/**
 * A JSONL file written as results arrive: each line is appended (and reaches the kernel) at once to
 * `<path>.part`, so an interrupted or killed run keeps every finished line; `finish` writes the final
 * content atomically to `path` and removes the part file.
 */
export interface StreamingFile extends OutputFile {
  append(line: string): void;
  /** After a second interrupt: keep the lines streamed so far (completion order) under the final name. */
  salvage(): void;
  /** The part file's path while streaming. */
  partPath: string;
}

export function prepareStreamingFile(path: string, flag: string): StreamingFile {
  const out = prepareOutputFile(path, flag);
  // A device (/dev/null, /dev/stdout) takes the lines directly, as they come; there is nothing to rename.
  const device = kindOf(path) === 'special';
  const partPath = device ? path : `${path}.part`;
  let fd: number | undefined;
  try {
    fd = openSync(partPath, device ? 'a' : 'w');
  } catch (e) {
    out.release();
    throw outputError(flag, partPath, `cannot write (${reason(e)})`, 'choose a folder you can write to');
  }
  const closePart = () => {
    if (fd === undefined) return;
    try {
      closeSync(fd);
    } catch {
      /* closed */
    }
    fd = undefined;
  };
  return {
    path,
    partPath,
    // Streaming is a safety net: if the part file cannot take a line (disk full), say so once and go on;
    // the results stay in memory for the final write.
    append(line: string) {
      if (fd === undefined) return;
      try {
        writeSync(fd, line.endsWith('\n') ? line : line + '\n');
      } catch (e) {
        process.stderr.write(`warning: ${flag} "${partPath}": cannot append (${reason(e)}); the results are written at the end\n`);
        closePart();
      }
    },
    salvage() {
      closePart();
      if (device) return;
      try {
        renameSync(partPath, path);
      } catch {
        /* the part file keeps the lines */
      }
    },
    write(data: string) {
      if (device) {
        closePart();
        return;
      }
      out.write(data);
      closePart();
      try {
        if (existsSync(partPath)) unlinkSync(partPath);
      } catch {
        /* left behind: harmless */
      }
    },
    release() {
      closePart();
      out.release();
    },
  };
}

/** Creates a folder (and missing parents) for writing; failures are one line naming it. */
export function ensureDir(dir: string, flag = 'output'): void {
  try {
    makeDirs(dir);
  } catch (e) {
    throw outputError(flag, dir, `cannot create the folder (${reason(e)})`, 'choose a folder you can write to');
  }
}
