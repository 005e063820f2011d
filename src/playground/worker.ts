import { initInfo, simulateRequest } from './session.ts';
import type { WorkerRequest, WorkerResponse } from './protocol.ts';

/**
 * The playground's Web Worker: the simulation runs here so the page stays responsive. The page inlines
 * this bundle and starts it from a Blob URL (a file:// page may not load worker scripts by path).
 */
const scope = globalThis as unknown as {
  addEventListener(type: 'message', fn: (e: { data: WorkerRequest }) => void): void;
  postMessage(msg: WorkerResponse): void;
};

scope.addEventListener('message', (e) => {
  const req = e.data;
  if (req.type === 'init') scope.postMessage(initInfo(req.id));
  else void simulateRequest(req, (summary) => scope.postMessage(summary)).then((res) => scope.postMessage(res));
});
