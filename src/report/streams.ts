/**
 * How a simulated stream is shown: a CUDA stream id and a name, shared by the Gantt chart and the trace
 * so the two line up. In PyTorch profiler traces the default compute stream commonly appears as
 * stream 7 and NCCL kernels on separate, higher-numbered streams (observed convention, not a constant
 * in the source: shared/reference/ecosystem.md §2.2); FSDP2 gives AllGather and ReduceScatter their own
 * streams (torch/distributed/fsdp/_fully_shard/_fsdp_param_group.py `FSDPCommContext`), and DDP's
 * AllReduce runs on ProcessGroupNCCL's own stream.
 */
export interface StreamView {
  id: number;
  /** The trace's thread name, Kineto style ("stream <id> <what>"). */
  threadName: string;
  /** Short lane label for charts. */
  label: string;
}

const KNOWN: Record<string, Omit<StreamView, 'threadName'> & { what: string }> = {
  compute: { id: 7, what: 'compute', label: 'compute' },
  all_gather: { id: 20, what: 'nccl all_gather', label: 'nccl all_gather' },
  reduce_scatter: { id: 24, what: 'nccl reduce_scatter', label: 'nccl reduce_scatter' },
  all_reduce: { id: 28, what: 'nccl all_reduce', label: 'nccl all_reduce' },
  tensor_parallel: { id: 32, what: 'nccl tensor parallel', label: 'nccl tensor parallel' },
  context_parallel: { id: 36, what: 'nccl ring attention (send/recv)', label: 'nccl ring attention' },
  // DeepEP's Buffer runs dispatch/combine on its own communication stream (deep_ep `Buffer.comm_stream`).
  expert_parallel: { id: 38, what: 'DeepEP dispatch/combine (all-to-all)', label: 'EP all-to-all' },
  host_to_device: { id: 40, what: 'memcpy HtoD (offload)', label: 'memcpy HtoD' },
  device_to_host: { id: 44, what: 'memcpy DtoH (offload)', label: 'memcpy DtoH' },
  host: { id: 48, what: 'host CPU (optimizer)', label: 'host CPU' },
};

/** Display order of streams within a rank. */
export const STREAM_ORDER = ['compute', 'tensor_parallel', 'context_parallel', 'expert_parallel', 'all_gather', 'reduce_scatter', 'all_reduce', 'host_to_device', 'device_to_host', 'host'];

export function streamView(stream: string): StreamView {
  const k = KNOWN[stream];
  if (k) return { id: k.id, threadName: `stream ${k.id} ${k.what}`, label: k.label };
  // A stream a future strategy adds: a stable id above the known ones.
  let h = 0;
  for (const ch of stream) h = (h * 31 + ch.charCodeAt(0)) % 1000;
  const id = 100 + h;
  return { id, threadName: `stream ${id} ${stream}`, label: stream };
}

export function streamRank(stream: string): number {
  const i = STREAM_ORDER.indexOf(stream);
  return i < 0 ? STREAM_ORDER.length : i;
}
