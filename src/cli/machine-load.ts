import { readFileSync } from 'node:fs';

/**
 * What else the machine did while a benchmark ran: other processes' CPU and the hypervisor's steal, from
 * the kernel's whole-machine counters (/proc/stat, Linux only). A 2-core VM's CPU seconds for the same work
 * rise by a fifth when another process keeps the second core busy, and by more under steal: a benchmark
 * figure means little without this.
 */

/**
 * /proc/stat counts in USER_HZ ticks, which the kernel fixes at 100 per second for user space on every
 * architecture it supports (proc(5): "units of USER_HZ (1/100ths of a second on most architectures)").
 */
const USER_HZ = 100;

export interface CpuTimes {
  /** CPU seconds all processes ran, on all CPUs (user, nice, system, irq, softirq). */
  busySeconds: number;
  /** CPU seconds the hypervisor gave to other guests while this one wanted to run. */
  stealSeconds: number;
}

/** The whole-machine line of /proc/stat: `cpu user nice system idle iowait irq softirq steal guest guest_nice`. */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 8 || f.some((x) => !Number.isFinite(x))) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
  // guest time is already inside user and nice (proc(5)).
  return { busySeconds: (user + nice + system + irq + softirq) / USER_HZ, stealSeconds: steal / USER_HZ };
}

export function readCpuTimes(): CpuTimes | undefined {
  try {
    return parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Others' load during a run: cores kept busy by other processes, and steal as cores, over its wall time. */
export function othersLoad(before: CpuTimes, after: CpuTimes, ownCpuSeconds: number, wallSeconds: number): { cores: number; stealCores: number } {
  if (!(wallSeconds > 0)) return { cores: 0, stealCores: 0 };
  return {
    cores: Math.max(0, after.busySeconds - before.busySeconds - ownCpuSeconds) / wallSeconds,
    stealCores: Math.max(0, after.stealSeconds - before.stealSeconds) / wallSeconds,
  };
}
