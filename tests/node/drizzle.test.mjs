// `reconcile codegen drizzle` in the app: the schema it writes from the
// repository's schema/ type-checks with `tsc --strict` together with typed
// use of it (drizzle_use.ts), and a Drizzle insert and select on every table
// succeeds against the database that `reconcile apply` built from the same files.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const repo = process.env.RECONCILE_REPO;
const schemaDir = path.join(repo, "schema");
const url = process.env.DATABASE_URL_DRIZZLE;

function run(cmd, args, cwd, env = {}) {
  try {
    return execFileSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    assert.fail(`${cmd} ${args.join(" ")} exited ${e.status}:\n${e.stdout}\n${e.stderr}`);
  }
}

test("the generated Drizzle schema and typed use of the package's API type-check strictly; Drizzle inserts and selects on every table", async () => {
  const dir = mkdtempSync(path.join(process.cwd(), "drizzle-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  run("npx", ["--no-install", "reconcile", "codegen", "drizzle", "--schema", schemaDir, "--out", "shared/schema.ts"], dir);
  const generated = readFileSync(path.join(dir, "shared", "schema.ts"), "utf8");
  run("npx", ["--no-install", "reconcile", "codegen", "drizzle", "--schema", schemaDir, "--out", "shared/again.ts"], dir);
  assert.equal(readFileSync(path.join(dir, "shared", "again.ts"), "utf8"), generated, "a second run wrote other bytes");
  rmSync(path.join(dir, "shared", "again.ts"));

  copyFileSync(path.join(process.cwd(), "drizzle_use.ts"), path.join(dir, "drizzle_use.ts"));
  copyFileSync(path.join(process.cwd(), "api_use.ts"), path.join(dir, "api_use.ts"));
  writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noUncheckedIndexedAccess: false,
        target: "es2022",
        module: "nodenext",
        moduleResolution: "nodenext",
        outDir: "dist",
        skipLibCheck: true,
      },
      files: ["shared/schema.ts", "drizzle_use.ts", "api_use.ts"],
    }),
  );
  run("npx", ["--no-install", "tsc", "-p", "tsconfig.json"], dir);

  run("npx", ["--no-install", "reconcile", "apply", "--schema", schemaDir, "--yes"], dir, { DATABASE_URL: url });
  // The app's own session gets PostgreSQL's defaults, as the harness's psql
  // does: under the harness's hostile flavor the database puts functions and
  // operators named like built-ins first on its search_path, which reconcile
  // is tested against elsewhere; this app's queries are not what is tested.
  process.env.PGOPTIONS = "-c search_path=public -c standard_conforming_strings=on";
  const { insertAndSelectEveryTable } = await import(pathToFileURL(path.join(dir, "dist", "drizzle_use.js")).href);
  const counts = await insertAndSelectEveryTable(url);
  const tables = readdirSync(schemaDir)
    .filter((f) => f.endsWith(".toml"))
    .flatMap((f) => [...readFileSync(path.join(schemaDir, f), "utf8").matchAll(/^\[tables\.([a-z_]+)\]$/gm)].map((m) => m[1]))
    .sort();
  assert.deepEqual(Object.keys(counts).sort(), tables, "drizzle_use.ts must use every table of schema/");
  for (const [table, n] of Object.entries(counts)) assert.equal(n, 1, `${table}: ${n} rows selected`);
});
