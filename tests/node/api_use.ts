// Typed use of the package's API (lib/index.d.ts), compiled with
// `tsc --strict` by drizzle.test.mjs beside the generated schema: the types
// that a TypeScript app sees for plan(), apply(), ReconcileError and the
// Express / node:http handler.
import http from "node:http";
import express from "express";
import { apply, plan, reconcileAdmin, ReconcileError, type Applied, type Plan } from "reconcile-pg";

export async function typedUse(databaseUrl: string): Promise<string[]> {
  const planned: Plan = await plan({ schemaDir: "schema", databaseUrl });
  const lines = planned.statements.map((s) => `${s.id} ${s.lock} ${s.hazard ?? "no hazard"} ${s.origin?.line ?? 0}`);
  for (const r of planned.refused) lines.push(`${r.rule} ${r.object}: ${r.safePath}`);
  try {
    const applied: Applied = await apply({ schemaDir: "schema", databaseUrl, expectPlan: planned.planHash, lockTimeout: "5s" });
    lines.push(`${applied.result.executed.length} in ${applied.result.totalTime}`);
  } catch (e) {
    if (!(e instanceof ReconcileError)) throw e;
    lines.push(`exit ${e.exitCode}: ${e.message} ${e.json?.planHash ?? ""}`);
  }
  const app = express();
  const admin = reconcileAdmin({ schemaDir: "schema", databaseUrl, runMigrationsOnBoot: false });
  app.use(admin);
  const plain = http.createServer(reconcileAdmin({ schemaDir: "schema" }));
  plain.close();
  lines.push(String(admin.handles("/__admin/health")), String(admin.pid ?? 0));
  await admin.close();
  return lines;
}
