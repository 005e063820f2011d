// Injected by scripts/build-cli.mjs into the CommonJS bundles, where esbuild maps `import.meta.url` and
// `import.meta.resolve` to these: the bundle file's own URL, and resolution from its folder (the packages
// the sources resolve this way, vega and dejavu-fonts-ttf, give the same file to both conditions).
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
export const importMetaResolve = (specifier) => require('node:url').pathToFileURL(require.resolve(specifier)).href;
