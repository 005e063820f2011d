import { isMap, type Document } from 'yaml';
import { ATTENTION_IMPLS, resolveAttentionImpl, type AttentionInput } from '../config/attention.ts';
import { OPTIMIZERS } from '../config/optimizers.ts';

/**
 * The playground's knobs, as one table. Each entry is a scenario key (dotted path into the Axolotl YAML),
 * how the form shows it, and what the simulator assumes when the key is absent. The page draws a field
 * per entry and keeps field and YAML in sync both ways through `readControl` / `writeControl`, so a new
 * key (say `adapter: lora|qlora`, `sample_packing`, `attn_implementation`) is one more entry here:
 *
 *   { key: 'adapter', label: 'adapter', group: 'model', input: 'select',
 *     choices: [{ value: undefined, label: 'none (full fine-tune)' }, { value: 'lora', label: 'LoRA' }, { value: 'qlora', label: 'QLoRA' }],
 *     help: 'Axolotl adapter: …' },
 *
 * Entries whose key spans several YAML keys (the strategy) give `read` and `write`.
 */

/** A YAML scalar as the form handles it; undefined = the key is absent. */
export type ControlValue = string | number | boolean | undefined;

export interface Choice {
  value: ControlValue;
  label: string;
}

/** What only the worker knows: the bundled hardware profiles, the default one, the catalog models. */
export interface ControlContext {
  hardware: { id: string; name: string }[];
  defaultHardware: string;
  models: string[];
}

export type ControlGroup = 'setup' | 'training' | 'batch' | 'strategy' | 'parallelism' | 'overlap' | 'memory';

export interface Control {
  /** Dotted YAML key (`fsdp_config.reshard_after_forward`); also the field's id (`ctl-` + key). */
  key: string;
  label: string;
  group: ControlGroup;
  input: 'number' | 'checkbox' | 'select' | 'text';
  /** select: the choices (`value: undefined` removes the key). */
  choices?: Choice[] | ((ctx: ControlContext) => Choice[]);
  /** What the simulator assumes when the key is absent: the checkbox state, the placeholder. */
  defaultValue?: ControlValue | ((doc: Document, ctx?: ControlContext) => ControlValue);
  /** Placeholder text for number/text fields when the default is not a plain value ("auto"). */
  placeholder?: string;
  min?: number;
  step?: number;
  /** text: suggestions offered in a datalist. */
  suggestions?: string[];
  /** Shown on hover: what the key does. */
  help: string;
  /** False: the key has no effect with this config (the field is disabled). Default: always applies. */
  appliesTo?: (doc: Document) => boolean;
  /** For entries that span several keys; default: the value at `key`. */
  read?: (doc: Document) => ControlValue;
  write?: (doc: Document, value: ControlValue) => void;
}

export const GROUP_TITLES: Record<ControlGroup, string> = {
  setup: 'Model and hardware',
  training: 'Training',
  batch: 'Batch',
  strategy: 'Strategy',
  parallelism: 'Parallelism (device mesh)',
  overlap: 'Overlap',
  memory: 'Memory',
};

const pathOf = (key: string) => key.split('.');

/** The plain value at a dotted key, or undefined (also when a parent is not a mapping). */
export function getKey(doc: Document, key: string): ControlValue {
  const v = doc.getIn(pathOf(key)) as unknown;
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
}

/** Sets a dotted key, creating mappings on the way; undefined deletes it, and mappings left empty. */
export function setKey(doc: Document, key: string, value: ControlValue): void {
  const path = pathOf(key);
  if (value !== undefined) {
    doc.setIn(path, value);
    return;
  }
  if (!doc.hasIn(path)) return;
  doc.deleteIn(path);
  for (let n = path.length - 1; n > 0; n--) {
    const parent = doc.getIn(path.slice(0, n), true);
    if (isMap(parent) && parent.items.length === 0) doc.deleteIn(path.slice(0, n));
    else break;
  }
}

// --- the strategy: DDP (no keys), FSDP (fsdp_version), ZeRO (deepspeed) -----------------------------

export type StrategyChoice = 'ddp' | 'fsdp1' | 'fsdp2' | 'zero1' | 'zero2' | 'zero3' | 'deepspeed-file';

/** The strategy a scenario asks for, by Axolotl's rules (src/config/resolve.ts): deepspeed, else fsdp keys, else DDP. */
export function readStrategy(doc: Document): StrategyChoice {
  const ds = doc.get('deepspeed', true) as unknown;
  if (ds !== undefined) {
    if (!isMap(ds)) return 'deepspeed-file';
    const stage = doc.getIn(['deepspeed', 'zero_optimization', 'stage']);
    if (stage === 1 || stage === 2 || stage === 3) return `zero${stage}`;
    return 'ddp';
  }
  if (doc.get('fsdp_version') === 2) return 'fsdp2';
  if (doc.has('fsdp_version') || doc.has('fsdp_config') || doc.has('fsdp')) return 'fsdp1';
  return 'ddp';
}

/**
 * A DeepSpeed config written inline when the user picks a ZeRO stage: Axolotl's deepspeed_configs/zero*.json
 * reduced to what the simulator reads, with HF Trainer's "auto" values (filled from the Axolotl keys).
 */
function inlineDeepSpeed(stage: number): Record<string, unknown> {
  return {
    zero_optimization: {
      stage,
      overlap_comm: true,
      contiguous_gradients: true,
      reduce_bucket_size: 'auto',
      stage3_prefetch_bucket_size: 'auto',
      stage3_param_persistence_threshold: 'auto',
    },
    bf16: { enabled: 'auto' },
  };
}

export function writeStrategy(doc: Document, value: ControlValue): void {
  const v = String(value) as StrategyChoice;
  if (v === 'deepspeed-file') return;
  const dropFsdp = () => ['fsdp_version', 'fsdp_config', 'fsdp'].forEach((k) => doc.delete(k));
  if (v === 'ddp') {
    dropFsdp();
    doc.delete('deepspeed');
  } else if (v === 'fsdp1' || v === 'fsdp2') {
    doc.delete('deepspeed');
    doc.set('fsdp_version', v === 'fsdp2' ? 2 : 1);
  } else {
    dropFsdp();
    const stage = Number(v.slice(-1));
    if (isMap(doc.get('deepspeed', true))) doc.setIn(['deepspeed', 'zero_optimization', 'stage'], stage);
    else doc.set('deepspeed', doc.createNode(inlineDeepSpeed(stage)));
  }
}

const isFsdp = (doc: Document) => readStrategy(doc).startsWith('fsdp');
const isZero = (doc: Document) => readStrategy(doc).startsWith('zero');
/**
 * Axolotl's FSDPConfig drops the FSDP1 prefetch keys (accelerate's default applies: no backward prefetch);
 * a run outside Axolotl (`simulation.framework: other`) honours them (src/config/resolve.ts).
 */
const underAxolotl = (doc: Document) => (getKey(doc, 'simulation.framework') ?? 'axolotl') === 'axolotl';
const fsdp1Prefetch = (doc: Document) => readStrategy(doc) === 'fsdp1' && !underAxolotl(doc);

// --- adapters and attention: keys that come in pairs -------------------------------------------------

/** `adapter`: qlora needs `load_in_4bit` (Axolotl validate_qlora) and both need target modules. */
export function writeAdapter(doc: Document, value: ControlValue): void {
  if (value === undefined) {
    for (const k of ['adapter', 'load_in_4bit', 'load_in_8bit']) doc.delete(k);
    return;
  }
  doc.set('adapter', value);
  if (value === 'qlora') {
    doc.set('load_in_4bit', true);
    doc.delete('load_in_8bit');
  } else doc.delete('load_in_4bit');
  // Axolotl's examples adapt every linear layer; an explicit target list is kept.
  if (!doc.has('lora_target_modules') && !doc.has('lora_target_linear')) doc.set('lora_target_linear', true);
}

/** The deprecated booleans (flash_attention, sdp_attention, …) Axolotl maps to attn_implementation. */
const LEGACY_ATTENTION_FLAG = /^(xformers|sage|flex|flash|sdp|eager)_attention$/;

/** The backend the YAML asks for: attn_implementation, else a deprecated flag's; undefined when unset (SDPA). */
export function readAttention(doc: Document): ControlValue {
  const own = doc.get('attn_implementation');
  if (typeof own === 'string') return own;
  const js = (doc.toJS() ?? {}) as AttentionInput;
  if (!Object.keys(js).some((k) => LEGACY_ATTENTION_FLAG.test(k) && js[k] === true)) return undefined;
  try {
    return resolveAttentionImpl(js).impl;
  } catch {
    return undefined;
  }
}

/** Sets attn_implementation and removes the deprecated flags (Axolotl refuses both at once). */
export function writeAttention(doc: Document, value: ControlValue): void {
  for (const item of isMap(doc.contents) ? [...doc.contents.items] : []) {
    const key = (item.key as { value?: unknown })?.value ?? item.key;
    if (typeof key === 'string' && LEGACY_ATTENTION_FLAG.test(key)) doc.delete(key);
  }
  setKey(doc, 'attn_implementation', value);
}

// --- the table ---------------------------------------------------------------------------------------

export const CONTROLS: Control[] = [
  {
    key: 'base_model',
    label: 'model',
    group: 'setup',
    input: 'select',
    choices: (ctx) => ctx.models.map((m) => ({ value: m, label: m })),
    help: 'A catalog model id (src/model/catalog/); a folder path only works from the CLI.',
  },
  {
    key: 'simulation.hardware',
    label: 'hardware',
    group: 'setup',
    input: 'select',
    choices: (ctx) => ctx.hardware.map((h) => ({ value: h.id, label: `${h.id} — ${h.name}` })),
    defaultValue: (_doc, ctx) => ctx?.defaultHardware,
    help: 'Hardware profile (hardware-profiles/): GPU, NVLink, network, host.',
  },
  {
    key: 'simulation.framework',
    label: 'framework',
    group: 'setup',
    input: 'select',
    choices: [
      { value: 'axolotl', label: 'axolotl (its reading of the config)' },
      { value: 'other', label: 'other (plain accelerate / torch)' },
    ],
    defaultValue: 'axolotl',
    help: 'Axolotl drops some keys (FSDP1 prefetch, sharding_strategy) and switches some features on; "other" takes the keys as accelerate and torch read them.',
  },
  { key: 'simulation.num_nodes', label: 'nodes', group: 'setup', input: 'number', min: 1, step: 1, defaultValue: 1, help: 'Number of nodes of that hardware.' },
  {
    key: 'simulation.inter_node_bandwidth',
    label: 'inter-node bandwidth',
    group: 'setup',
    input: 'text',
    placeholder: 'the profile’s',
    suggestions: ['100 Gb/s', '200 Gb/s', '400 Gb/s', '800 Gb/s', '1.6 Tb/s', '3.2 Tb/s'],
    help: 'What-if scale-out bandwidth per node, e.g. "400 Gb/s" (b = bit, B = byte).',
    appliesTo: (doc) => Number(getKey(doc, 'simulation.num_nodes') ?? 1) > 1,
  },
  {
    key: 'adapter',
    label: 'adapter',
    group: 'training',
    input: 'select',
    choices: [
      { value: undefined, label: 'none (full fine-tune)' },
      { value: 'lora', label: 'LoRA' },
      { value: 'qlora', label: 'QLoRA (4-bit base)' },
    ],
    help: 'PEFT adapters over a frozen base (QLoRA: NF4-quantised base, load_in_4bit).',
    write: writeAdapter,
  },
  {
    key: 'optimizer',
    label: 'optimizer',
    group: 'training',
    input: 'select',
    choices: Object.keys(OPTIMIZERS).map((name) => ({ value: name, label: name })),
    defaultValue: 'adamw_torch_fused',
    help: 'The optimizer as Axolotl names it: its state bytes per parameter and its step kernels.',
  },
  {
    key: 'attn_implementation',
    label: 'attention',
    group: 'training',
    input: 'select',
    choices: [{ value: undefined, label: 'unset (transformers: sdpa)' }, ...ATTENTION_IMPLS.map((impl) => ({ value: impl, label: impl }))],
    help: 'The attention kernel (attn_implementation; replaces the deprecated flash_attention-style flags).',
    read: readAttention,
    write: writeAttention,
  },
  { key: 'sample_packing', label: 'sample packing', group: 'training', input: 'checkbox', defaultValue: false, help: 'Pack several samples into each row (how a row is masked depends on the attention kernel).' },
  { key: 'micro_batch_size', label: 'micro-batch', group: 'batch', input: 'number', min: 1, step: 1, defaultValue: 1, help: 'Sequences per GPU per forward/backward.' },
  { key: 'gradient_accumulation_steps', label: 'accumulation', group: 'batch', input: 'number', min: 1, step: 1, defaultValue: 1, help: 'Micro-batches per optimizer step (gradient_accumulation_steps).' },
  { key: 'sequence_len', label: 'sequence length', group: 'batch', input: 'number', min: 1, step: 256, defaultValue: 2048, help: 'Tokens per sequence (sequence_len).' },
  {
    key: 'strategy',
    label: 'strategy',
    group: 'strategy',
    input: 'select',
    choices: [
      { value: 'ddp', label: 'DDP (no fsdp / deepspeed keys)' },
      { value: 'fsdp1', label: 'FSDP1 (fsdp_version: 1)' },
      { value: 'fsdp2', label: 'FSDP2 (fsdp_version: 2)' },
      { value: 'zero1', label: 'DeepSpeed ZeRO-1' },
      { value: 'zero2', label: 'DeepSpeed ZeRO-2' },
      { value: 'zero3', label: 'DeepSpeed ZeRO-3' },
    ],
    help: 'How the data-parallel GPUs share the model: Axolotl picks DDP without fsdp/deepspeed keys.',
    read: readStrategy,
    write: writeStrategy,
  },
  {
    key: 'fsdp_config.reshard_after_forward',
    label: 'reshard_after_forward',
    group: 'strategy',
    input: 'checkbox',
    defaultValue: true,
    help: 'FSDP: free gathered parameters after each layer’s forward (gather again in backward) — less memory, more AllGathers.',
    appliesTo: isFsdp,
  },
  {
    key: 'fsdp_config.backward_prefetch',
    label: 'backward prefetch',
    group: 'overlap',
    input: 'select',
    choices: [
      { value: 'BACKWARD_PRE', label: 'BACKWARD_PRE (default)' },
      { value: 'BACKWARD_POST', label: 'BACKWARD_POST' },
      { value: 'NO_PREFETCH', label: 'NO_PREFETCH' },
    ],
    defaultValue: (doc) => (underAxolotl(doc) ? 'NO_PREFETCH' : 'BACKWARD_PRE'),
    help: 'FSDP1 with framework: other — when the next unit’s backward AllGather is issued. Axolotl drops the key (no prefetch); FSDP2 always prefetches one group.',
    appliesTo: fsdp1Prefetch,
  },
  {
    key: 'fsdp_config.forward_prefetch',
    label: 'forward prefetch',
    group: 'overlap',
    input: 'checkbox',
    defaultValue: false,
    help: 'FSDP1 with framework: other — issue the next unit’s forward AllGather before the current one computes (Axolotl drops the key).',
    appliesTo: fsdp1Prefetch,
  },
  {
    key: 'ddp_bucket_cap_mb',
    label: 'DDP bucket (MiB)',
    group: 'overlap',
    input: 'number',
    min: 1,
    step: 1,
    defaultValue: 25,
    help: 'DDP gradient bucket size (bucket_cap_mb): one AllReduce per bucket, launched when its gradients are ready.',
    appliesTo: (doc) => readStrategy(doc) === 'ddp',
  },
  {
    key: 'deepspeed.zero_optimization.overlap_comm',
    label: 'ZeRO overlap_comm',
    group: 'overlap',
    input: 'checkbox',
    defaultValue: (doc) => readStrategy(doc) === 'zero3',
    help: 'DeepSpeed: reduce gradient buckets during backward instead of after it (default on for stage 3 only).',
    appliesTo: isZero,
  },
  { key: 'dp_shard_size', label: 'dp_shard', group: 'parallelism', input: 'number', min: 1, step: 1, placeholder: 'auto', help: 'GPUs a model state is sharded over (FSDP); inferred from the rest when absent.' },
  { key: 'dp_replicate_size', label: 'dp_replicate', group: 'parallelism', input: 'number', min: 1, step: 1, defaultValue: 1, help: 'Replicas of the sharded model (HSDP); gradients are all-reduced across them.' },
  { key: 'tensor_parallel_size', label: 'TP', group: 'parallelism', input: 'number', min: 1, step: 1, defaultValue: 1, help: 'Tensor parallelism: each layer’s matrices split over this many GPUs.' },
  { key: 'context_parallel_size', label: 'CP', group: 'parallelism', input: 'number', min: 1, step: 1, defaultValue: 1, help: 'Context parallelism (ring attention): the sequence split over this many GPUs.' },
  {
    key: 'gradient_checkpointing',
    label: 'checkpointing',
    group: 'memory',
    input: 'select',
    choices: [
      { value: false, label: 'off' },
      { value: true, label: 'full (recompute each layer)' },
      { value: 'selective', label: 'selective' },
    ],
    defaultValue: false,
    help: 'Activation checkpointing: keep less, recompute the forward in backward.',
  },
];

/** The value a field shows: the key's value, else the simulator's default (undefined when there is none). */
export function readControl(c: Control, doc: Document, ctx?: ControlContext): ControlValue {
  const v = c.read ? c.read(doc) : getKey(doc, c.key);
  if (v !== undefined) return v;
  return typeof c.defaultValue === 'function' ? c.defaultValue(doc, ctx) : c.defaultValue;
}

/** Writes a field's value into the YAML (undefined removes the key). */
export function writeControl(c: Control, doc: Document, value: ControlValue): void {
  if (c.write) c.write(doc, value);
  else setKey(doc, c.key, value);
}

export function controlApplies(c: Control, doc: Document): boolean {
  return c.appliesTo ? c.appliesTo(doc) : true;
}

export function controlChoices(c: Control, ctx: ControlContext): Choice[] {
  if (!c.choices) return [];
  return typeof c.choices === 'function' ? c.choices(ctx) : c.choices;
}

/** A field's text as a YAML value: '' removes the key, numbers become numbers. */
export function parseFieldText(c: Control, text: string): ControlValue {
  const t = text.trim();
  if (t === '') return undefined;
  if (c.input === 'number') {
    const n = Number(t);
    return Number.isFinite(n) ? n : t;
  }
  return t;
}
