#!/bin/bash
# Writes src/report/fonts/DejaVuSans{,-Bold}-charts.ttf: the npm package's DejaVu Sans cut to the characters
# chart text uses (src/report/fonts.ts says why). Needs pyftsubset (Debian package `fonttools`);
# only a maintainer who changes the ranges runs it, and commits the two files.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src="$here/node_modules/dejavu-fonts-ttf/ttf"
out="$here/src/report/fonts"
# ASCII, Latin-1 and Latin Extended-A, Greek (µ, α, Σ, Δ), general punctuation (· – — … “ ”), super- and
# subscripts, €, letterlike symbols, arrows, mathematical operators (− × ≈ ≤ ≥ ∪), technical symbols,
# geometric shapes (▼ ▲ ■ ●). The renderer reads the coverage back from the files' cmaps.
ranges="U+0020-007E,U+00A0-017F,U+0370-03FF,U+2010-205E,U+2070-209F,U+20AC,U+2100-215F,U+2190-21FF,U+2200-22FF,U+2300-23FF,U+25A0-25FF"
mkdir -p "$out"
for face in DejaVuSans DejaVuSans-Bold; do
  # Every OpenType layout feature stays (kerning, ligatures) so the glyphs sit where the full font puts them;
  # hinting goes: resvg does not hint.
  pyftsubset "$src/$face.ttf" --unicodes="$ranges" --layout-features='*' --no-hinting --output-file="$out/$face-charts.ttf" 2> >(grep -v 'FFTM NOT subset' >&2)
done
cp "$src/../LICENSE" "$out/LICENSE"
ls -l "$out"
