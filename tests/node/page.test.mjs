// The dry-run page in headless Chromium (Debian's, driven by Playwright's
// core), through the Express handler as a user's browser reaches it: the page
// shows the plan, a refusal with its safe path, a hazard and an unmanaged
// table; Migrate applies and the page then has nothing to do; a page drawn
// before the plan changed is refused (409) and applies nothing.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import express from "express";
import pg from "pg";
import { chromium } from "playwright-core";
import { reconcileAdmin } from "reconcile-pg";

const url = process.env.DATABASE_URL_PAGE;
const token = "p".repeat(40);
const shots = process.env.RECONCILE_SCREENSHOTS;

function schema(dir, toml) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "t.toml"), toml);
  return dir;
}

const base = `
[tables.visits.columns]
id   = { type = "bigserial", primary_key = true }
note = { type = "text" }
`;
// A type change (refused) beside an index on a table with rows (a hazard).
const refused = `
[tables.visits.columns]
id   = { type = "bigserial", primary_key = true }
note = { type = "integer" }

[tables.visits.indexes]
idx_visits_note = { columns = ["note"] }
`;
// Only additive changes: a column and an index.
const additive = `
[tables.visits.columns]
id      = { type = "bigserial", primary_key = true }
note    = { type = "text" }
channel = { type = "text" }

[tables.visits.indexes]
idx_visits_note = { columns = ["note"] }
`;

async function app(schemaDir) {
  const a = express();
  const admin = reconcileAdmin({ schemaDir, databaseUrl: url, adminToken: token, runMigrationsOnBoot: false });
  a.use(admin);
  const server = http.createServer(a);
  const port = await new Promise((r) => server.listen(0, "127.0.0.1", () => r(server.address().port)));
  after(async () => {
    await admin.close();
    await new Promise((r) => server.close(r));
  });
  return port;
}

test("the dry-run page in Chromium: plan, refusal, hazard; Migrate applies; a stale page is refused", async () => {
  const dir = mkdtempSync(path.join(process.cwd(), "page-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync("npx", ["--no-install", "reconcile", "apply", "--schema", schema(path.join(dir, "base"), base), "--yes"], {
    env: { ...process.env, DATABASE_URL: url },
    stdio: "pipe",
  });
  // The test's own session gets PostgreSQL's defaults whatever the harness's
  // flavor set on the database (as the harness's psql does).
  const client = new pg.Client({ connectionString: url, options: "-c search_path=public -c standard_conforming_strings=on" });
  await client.connect();
  after(() => client.end());
  await client.query("INSERT INTO visits (note) SELECT 'n' || g FROM generate_series(1, 100) g");
  await client.query("CREATE TABLE stray_import (x int)");

  const refusedPort = await app(schema(path.join(dir, "refused"), refused));
  const additivePort = await app(schema(path.join(dir, "additive"), additive));

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  after(() => browser.close());
  const page = await browser.newPage();
  const seen = [];
  page.on("response", (r) => seen.push({ url: r.url(), location: r.headers().location ?? "" }));
  const noToken = async () => {
    assert.ok(!(await page.content()).includes(token), "the token is in the page");
    assert.ok(!page.url().includes(token), `the token is in the address: ${page.url()}`);
  };

  // A plan with a refused change: the refusal, its safe path, a hazard, the unmanaged table; no button.
  await page.goto(`http://127.0.0.1:${refusedPort}/__admin/migrate/dry-run?token=${token}`);
  await noToken();
  if (shots) await page.screenshot({ path: path.join(shots, "dry-run-refused.png"), fullPage: true });
  assert.match(await page.locator(".refusal .rule").first().innerText(), /^R003\b/);
  assert.match(await page.locator(".refusal").first().innerText(), /visits\.note/);
  assert.ok((await page.locator(".refusal .safe-path").first().innerText()).length > 20);
  assert.match(await page.locator(".statement .hazard").first().innerText(), /blocks writes/);
  // (Under the harness's hostile flavor the database holds a schema of its own too.)
  assert.equal(await page.locator(".unmanaged", { hasText: "stray_import" }).count(), 1);
  assert.match(await page.locator("#plan-hash").innerText(), /^[0-9a-f]{8,}$/);
  assert.equal(await page.locator("form#migrate").count(), 0, "a blocked plan offers no Migrate button");

  // Additive: drawn, then the plan changes behind it (someone builds the index): Migrate is refused.
  await page.goto(`http://127.0.0.1:${additivePort}/__admin/migrate/dry-run?token=${token}`);
  await noToken();
  const drawnHash = await page.locator("#plan-hash").innerText();
  assert.equal(await page.locator(".statement").count(), 2);
  await client.query("CREATE INDEX idx_visits_note ON visits (note)");
  await page.locator("form#migrate button[type=submit]").click();
  await page.waitForLoadState();
  assert.equal(await page.locator("#stale").count(), 1, await page.content());
  await noToken();
  if (shots) await page.screenshot({ path: path.join(shots, "migrate-stale.png"), fullPage: true });
  const columns = async () =>
    (await client.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'visits' ORDER BY 1")).rows.map(
      (r) => r.column_name,
    );
  assert.deepEqual(await columns(), ["id", "note"], "a stale Migrate applied something");

  // Drawn again: one statement left; Migrate applies it and the page has nothing to do.
  await page.goto(`http://127.0.0.1:${additivePort}/__admin/migrate/dry-run`);
  assert.notEqual(await page.locator("#plan-hash").innerText(), drawnHash);
  assert.equal(await page.locator(".statement").count(), 1);
  if (shots) await page.screenshot({ path: path.join(shots, "dry-run-additive.png"), fullPage: true });
  await page.locator("form#migrate button[type=submit]").click();
  await page.waitForLoadState();
  await page.locator("#nothing-to-do").waitFor();
  assert.equal(await page.locator(".statement").count(), 0);
  assert.equal(await page.locator("form#migrate").count(), 0);
  await noToken();
  if (shots) await page.screenshot({ path: path.join(shots, "after-migrate.png"), fullPage: true });
  assert.deepEqual(await columns(), ["channel", "id", "note"]);
  // Only the address the user typed holds the token; no answer sends it on.
  const typed = [refusedPort, additivePort].map((p) => `http://127.0.0.1:${p}/__admin/migrate/dry-run?token=${token}`);
  assert.deepEqual(seen.filter((s) => s.location.includes(token) || (s.url.includes(token) && !typed.includes(s.url))), []);
});
