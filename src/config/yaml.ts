import type { ParseOptions, DocumentOptions, SchemaOptions, ScalarTag } from 'yaml';

/**
 * Axolotl reads its config with PyYAML's `yaml.safe_load` (axolotl `cli/config.py` load_cfg), which
 * resolves YAML 1.1 types: merge keys (`<<: *anchor`, `<<: [*a, *b]`, explicit keys win, earlier mappings
 * win over later ones) and the words yes/no/on/off as booleans. The `yaml` package's own 1.1 schema also
 * takes `y`/`n` as booleans, which PyYAML does not (pyyaml `resolver.py` bool regexp), so we keep the
 * 1.2 core schema and add exactly PyYAML's extra boolean words.
 */
const pyYamlBool: ScalarTag = {
  identify: (v) => typeof v === 'boolean',
  default: true,
  tag: 'tag:yaml.org,2002:bool',
  // pyyaml resolver.py: yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
  test: /^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$/,
  resolve: (s: string) => /^(?:yes|Yes|YES|on|On|ON)$/.test(s),
};

/**
 * PyYAML's YAML 1.1 numbers may carry underscores (resolver.py int: `[-+]?(?:0|[1-9][0-9_]*)`, float:
 * `[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?`): Axolotl's `sequence_len: 500_000` is the integer
 * 500000 there, a string in YAML 1.2. Only forms with an underscore are added; the rest stay 1.2's.
 */
const pyYamlUnderscoreInt: ScalarTag = {
  identify: (v) => typeof v === 'number' && Number.isInteger(v),
  default: true,
  tag: 'tag:yaml.org,2002:int',
  test: /^[-+]?[1-9][0-9]*(?:_[0-9_]*)+$/,
  resolve: (s: string) => Number(s.replaceAll('_', '')),
};
const pyYamlUnderscoreFloat: ScalarTag = {
  identify: (v) => typeof v === 'number',
  default: true,
  tag: 'tag:yaml.org,2002:float',
  test: /^[-+]?[0-9][0-9_]*_[0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?$|^[-+]?[0-9][0-9_]*\.[0-9_]*_[0-9_]*(?:[eE][-+][0-9]+)?$/,
  resolve: (s: string) => Number(s.replaceAll('_', '')),
};

export const PYYAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  merge: true,
  customTags: (tags) => [pyYamlBool, pyYamlUnderscoreInt, pyYamlUnderscoreFloat, ...tags],
};
