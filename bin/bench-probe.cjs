// Preloaded (`node --require`) into the `simulate --out` children that `shardsim bench` times: at exit it
// writes the whole process's CPU seconds (every thread, user + sys) and peak RSS, as one JSON line, to the
// file named by SHARDSIM_BENCH_PROBE. Node gives no resource usage of a child process to its parent.
'use strict';
const { writeFileSync } = require('node:fs');
const file = process.env.SHARDSIM_BENCH_PROBE;
if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6, peakRssBytes: u.maxRSS * 1024 }) + '\n');
  });
}
