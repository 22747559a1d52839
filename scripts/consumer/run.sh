#!/usr/bin/env bash
# The consumer test: what a new user gets from `npm i orbit-pipeline`. Packs this repository,
# installs the tarball into a fresh temporary project with TypeScript 5 and 7 (nothing else: no
# @types/node, no @types/pg), compiles strict ESM (module nodenext) and CommonJS programs, every
# TypeScript block of the recovery spec, of README.md and of docs/*.md WITHOUT skipLibCheck, runs
# the programs, the spec's recovery blocks and the README's against a real database, and runs
# `npx orbit --help`. A .d.ts that needs skipLibCheck, or a documented signature that does not
# compile, fails it.
#
# Database: DATABASE_URL when set, else the embedded server. Each run uses its own schema.
# Env: ORBIT_SPEC, the spec's path (default: ../shared/spec/RECOVERY.md beside the repository, else
# /work/shared/spec/RECOVERY.md); KEEP=1 keeps the temporary project.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/scripts/consumer"
spec=${ORBIT_SPEC:-$repo/../shared/spec/RECOVERY.md}
[ -f "$spec" ] || spec=/work/shared/spec/RECOVERY.md
if [ ! -f "$spec" ]; then
  echo "consumer: spec not found (set ORBIT_SPEC)" >&2
  exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/orbit-consumer.XXXXXX")
# mktemp makes it 0700; the embedded server runs as user postgres when we are root.
chmod 755 "$tmp"
cleanup() {
  # Drop this run's schema (the database may be shared), with the pg the app installed.
  if [ -n "${ORBIT_SCHEMA:-}" ] && [ -d "$tmp/app/node_modules/pg" ] && [ -n "${DATABASE_URL:-}" ]; then
    (cd "$tmp/app" && node -e "const c = new (require('pg').Client)(process.env.DATABASE_URL);
      c.connect().then(() => c.query('DROP SCHEMA IF EXISTS ' + process.env.ORBIT_SCHEMA + ' CASCADE')).finally(() => c.end())" ||
      true)
  fi
  if [ "${KEEP:-}" = 1 ]; then echo "consumer: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
step() { echo "-- consumer: $*"; }

step "npm pack"
(cd "$repo" && npm pack --silent --pack-destination "$tmp" >/dev/null)
tarball=$(ls "$tmp"/orbit-pipeline-*.tgz)

step "install the tarball with typescript@5 and typescript@7 into $tmp/app"
mkdir -p "$tmp/app"
cd "$tmp/app"
echo '{ "name": "consumer-app", "private": true }' >package.json
npm install --silent --no-audit --no-fund "$tarball" ts5@npm:typescript@5 ts7@npm:typescript@7 >/dev/null
[ ! -e node_modules/@types/pg ] || { echo "consumer: @types/pg got installed; the test would not prove anything" >&2; exit 1; }

# skipLibCheck false on purpose: every .d.ts the package ships is checked.
base='"strict": true, "skipLibCheck": false, "noEmitOnError": true, "target": "es2022", "types": []'
mkdir -p esm cjs spec
cp "$here/project/esm.mts" esm/main.ts
echo '{ "type": "module" }' >esm/package.json
echo "{ \"compilerOptions\": { $base, \"module\": \"nodenext\", \"outDir\": \"out\" }, \"files\": [\"main.ts\"] }" >esm/tsconfig.json
cp "$here/project/cjs.cts" cjs/main.ts
echo '{ "type": "commonjs" }' >cjs/package.json
echo "{ \"compilerOptions\": { $base, \"module\": \"commonjs\", \"outDir\": \"out\" }, \"files\": [\"main.ts\"] }" >cjs/tsconfig.json
# The spec's blocks import './pipelines/my-pipeline' without an extension, as bundler-resolved
# projects do; top-level await needs an ES module.
cp "$here/project/stubs.mts" spec/stubs.ts
cp "$here/project/register.mjs" "$here/project/crash.mjs" spec/
echo '{ "type": "module" }' >spec/package.json
echo "{ \"compilerOptions\": { $base, \"module\": \"esnext\", \"moduleResolution\": \"bundler\", \"outDir\": \"out\" }, \"include\": [\"*.ts\", \"pipelines/*.ts\"] }" >spec/tsconfig.json
to_run=$(node "$here/extract-spec.mjs" "$spec" spec)
# The README's snippets, as printed: TypeScript as an ES module (nodenext), JavaScript as CommonJS.
mkdir -p readme/out
readme_blocks=$(node "$here/extract-spec.mjs" --as-is "$repo/README.md" readme)
echo '{ "type": "module" }' >readme/package.json
cp readme/package.json readme/out/
cp readme/*.cjs readme/out/
echo "{ \"compilerOptions\": { $base, \"module\": \"nodenext\", \"outDir\": \"out\" }, \"include\": [\"*.ts\"] }" >readme/tsconfig.json
# Every TypeScript block of docs/*.md, as printed, compiled (not run: most need a crashed run or a
# database of their own). ES modules resolved as a bundler would (extension-less local imports);
# the pipelines module two pages import is PIPELINES.md's own block that defines it.
mkdir -p docs/pipelines
for doc in "$repo"/docs/*.md; do
  page=$(basename "$doc" .md | tr '[:upper:]' '[:lower:]')
  node "$here/extract-spec.mjs" --as-is --ts-only --prefix "$page-" "$doc" docs >/dev/null
done
defining=$(grep -l '^export const orderFulfilment' docs/*.ts)
cp "$defining" docs/pipelines/order-fulfilment.ts
# The pages are written for Node programs, which have @types/node; this project stands in for it
# with the two globals they use, so that the package's own .d.ts is still checked without it.
echo 'declare const process: { readonly env: Record<string, string | undefined>; readonly argv: string[] };' >docs/node-globals.d.ts
echo '{ "type": "module" }' >docs/package.json
echo "{ \"compilerOptions\": { $base, \"module\": \"esnext\", \"moduleResolution\": \"bundler\", \"noEmit\": true }, \"include\": [\"*.ts\", \"pipelines/*.ts\", \"node-globals.d.ts\"] }" >docs/tsconfig.json
mkdir -p spec/out
cp spec/register.mjs spec/crash.mjs spec/package.json spec/out/

for ts in ts5 ts7; do
  tsc="node node_modules/$ts/bin/tsc"
  for project in esm cjs spec readme docs; do
    step "$($tsc --version) --strict, no skipLibCheck: $project"
    $tsc -p $project --noEmit
  done
done
step "emit with TypeScript 5"
for project in esm cjs spec readme; do node node_modules/ts5/bin/tsc -p $project; done

export ORBIT_SCHEMA="consumer_$$_$RANDOM"
where=embedded
[ -z "${DATABASE_URL:-}" ] || where=DATABASE_URL
# A private schema is created by its owner first, as in production: the library does not migrate
# on connect unless asked (docs/AUDIT.md, least privilege).
step "npx orbit migrate (schema $ORBIT_SCHEMA on the $where server)"
npx --no-install orbit migrate
step "run the ESM and CommonJS programs"
node esm/out/main.js
node cjs/out/main.js

for block in $readme_blocks; do
  step "README snippet $block"
  case $block in *.ts) file=${block%.ts}.js ;; *) file=$block ;; esac
  node "readme/out/$file"
done

step "crash a run (SIGKILL mid-step), then run the spec's recovery blocks"
set +e
CONSUMER_CRASH=1 node spec/out/crash.mjs
crashed=$?
set -e
[ "$crashed" = 137 ] || { echo "consumer: crash.mjs exited $crashed, expected 137 (SIGKILL)" >&2; exit 1; }
sleep 2
out=""
for block in $to_run; do
  step "node $block"
  block_out=$(cd spec/out && ORBIT_INTERRUPTED_THRESHOLD=1s node --import ./register.mjs "$block" 2>&1)
  echo "$block_out"
  out+="$block_out"$'\n'
done
grep -q 'Recovered 1/1 runs' <<<"$out" || { echo "consumer: the spec's orchestrator did not recover the crashed run" >&2; exit 1; }

step "npx orbit --help"
npx --no-install orbit --help | grep -q 'orbit' || { echo "consumer: orbit --help printed nothing useful" >&2; exit 1; }
echo "consumer: OK"
