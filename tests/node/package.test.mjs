// The npm package as a user of it sees it: installed from its .tgz into this
// throwaway project (tests/it/node.rs), against a real PostgreSQL
// (DATABASE_URL, a database of this test's own) and the repository's schema/.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import express from "express";
import { plan, apply, reconcileAdmin, binaryPath, ReconcileError } from "reconcile-pg";

const repo = process.env.RECONCILE_REPO;
const schemaDir = path.join(repo, "schema");
const token = "t".repeat(40);
const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test("npx reconcile --version runs the packaged binary", () => {
  const out = execFileSync("npx", ["--no-install", "reconcile", "--version"], { encoding: "utf8" });
  assert.match(out, /^reconcile \d+\.\d+\.\d+ \(commit [0-9a-f]{12}\)\n$/);
  assert.ok(binaryPath().includes(path.join("node_modules", "reconcile-pg", "vendor", "linux-x64")), binaryPath());
});

test("plan() and apply() return the CLI's JSON; failures are ReconcileError with the exit code", async () => {
  const db = process.env.DATABASE_URL_API;
  const before = await plan({ schemaDir, databaseUrl: db });
  assert.ok(before.statements.some((s) => s.id === "create-table:appointments"), JSON.stringify(before.statements.map((s) => s.id)));
  assert.equal(before.refused.length, 0);
  assert.match(before.planHash, /^[0-9a-f]+$/);

  await assert.rejects(apply({ schemaDir, databaseUrl: db, expectPlan: "0000" }), (e) => {
    assert.ok(e instanceof ReconcileError, String(e));
    assert.equal(e.exitCode, 3);
    assert.equal(e.json.success, false);
    return true;
  });
  const applied = await apply({ schemaDir, databaseUrl: db, expectPlan: before.planHash });
  assert.equal(applied.success, true);
  assert.deepEqual(applied.result.executed, before.statements.map((s) => s.id));
  const again = await plan({ schemaDir, databaseUrl: db });
  assert.deepEqual(again.statements, []);

  await assert.rejects(plan({ schemaDir: path.join(repo, "no-such-dir"), databaseUrl: db }), (e) => {
    assert.ok(e instanceof ReconcileError);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /no-such-dir/);
    return true;
  });
});

/** Listen on a free loopback port; resolves with it. */
function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}

/** One request: status, headers and body (text). */
function request(port, method, pathAndQuery, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: pathAndQuery, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** `reconcile serve` on a loopback port of its own, as the reference the app's answers are compared with. */
async function startServe(env) {
  const port = await new Promise((resolve) => {
    const s = http.createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const child = spawn(binaryPath(), ["serve", "--schema", schemaDir, "--listen", `127.0.0.1:${port}`], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr.on("data", (c) => (log += c));
  cleanups.push(() => new Promise((r) => (child.exitCode !== null ? r() : (child.once("exit", r), child.kill("SIGTERM")))));
  for (let i = 0; i < 200; i++) {
    try {
      await request(port, "GET", "/__admin/health");
      return { port, log: () => log };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`reconcile serve did not start:\n${log}`);
}

test("an Express app answers the admin endpoints on its own port, as reconcile serve does", async () => {
  const db = process.env.DATABASE_URL_EXPRESS;
  const env = { DATABASE_URL: db, ADMIN_TOKEN: token, RUN_MIGRATIONS_ON_BOOT: "false", APP_ENV: "test" };
  Object.assign(process.env, { ADMIN_TOKEN: token, APP_ENV: "test" });

  const app = express();
  const admin = reconcileAdmin({ schemaDir, databaseUrl: db, runMigrationsOnBoot: false });
  app.use(admin);
  app.get("/", (_req, res) => res.send("the app"));
  const server = http.createServer(app);
  const appPort = await listen(server);
  cleanups.push(() => admin.close());
  cleanups.push(() => new Promise((r) => server.close(r)));
  const serve = await startServe(env);

  const both = async (method, p, headers) => [
    await request(appPort, method, p, headers),
    await request(serve.port, method, p, headers),
  ];
  const same = (a, b, what) => {
    assert.equal(a.status, b.status, `${what}: status`);
    assert.equal(a.body, b.body, `${what}: body`);
    assert.equal(a.headers["content-type"], b.headers["content-type"], `${what}: content-type`);
  };
  const bearer = { authorization: `Bearer ${token}` };

  const app404 = await request(appPort, "GET", "/");
  assert.equal(app404.status, 200);
  assert.equal(app404.body, "the app");

  let [a, b] = await both("GET", "/__admin/health");
  assert.equal(a.status, 200);
  const health = (r) => ({ ...JSON.parse(r.body), timestamp: "" });
  assert.deepEqual(health(a), health(b));
  assert.deepEqual(Object.keys(JSON.parse(a.body)), ["status", "timestamp", "env", "migrationsEnabled", "database"]);
  assert.equal(JSON.parse(a.body).database, "ok");

  [a, b] = await both("GET", "/__admin/migrate/dry-run");
  assert.equal(a.status, 401);
  same(a, b, "dry-run without token");
  assert.equal(JSON.parse(a.body).error, "Invalid admin token");

  [a, b] = await both("GET", "/__admin/migrate/dry-run", { authorization: "Bearer wrong" });
  assert.equal(a.status, 401);
  same(a, b, "dry-run with a wrong token");

  [a, b] = await both("GET", "/__admin/migrate", bearer);
  assert.equal(a.status, 405);
  assert.equal(a.headers.allow, "POST");
  same(a, b, "GET migrate");

  [a, b] = await both("GET", "/__admin/migrate/dry-run", bearer);
  assert.equal(a.status, 200);
  same(a, b, "dry-run");
  const dry = JSON.parse(a.body);
  assert.equal(dry.success, true);
  assert.ok(dry.result.totalSteps > 0);
  const hash = dry.result.planHash;

  [a, b] = await both("POST", "/__admin/migrate?expectPlan=0123abcd", bearer);
  assert.equal(a.status, 409);
  same(a, b, "migrate with a stale expectPlan");

  a = await request(appPort, "POST", `/__admin/migrate?token=${token}&expectPlan=${hash}`);
  assert.equal(a.status, 200, a.body);
  const migrated = JSON.parse(a.body);
  assert.equal(migrated.success, true);
  assert.deepEqual(migrated.result.executed, dry.result.wouldExecute);

  [a, b] = await both("GET", "/__admin/migrate/dry-run", bearer);
  same(a, b, "dry-run after migrate");
  assert.equal(JSON.parse(a.body).result.totalSteps, 0);
  assert.ok(!serve.log().includes(token), "the token is never logged");
});

test("RUN_MIGRATIONS_ON_BOOT=true applies when the app starts; the [BOOT] lines are the app's", async () => {
  const db = process.env.DATABASE_URL_BOOT;
  const child = spawn(process.execPath, ["-e", `
    const express = require("express");
    const { reconcileAdmin } = require("reconcile-pg");
    const app = express();
    const admin = reconcileAdmin({ schemaDir: ${JSON.stringify(schemaDir)}, databaseUrl: ${JSON.stringify(db)} });
    app.use(admin);
    console.log("CHILD " + admin.pid);
    setTimeout(() => process.exit(0), 60000);
  `], { env: { ...process.env, RUN_MIGRATIONS_ON_BOOT: "true", ADMIN_TOKEN: token }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c) => (out += c));
  child.stderr.on("data", (c) => (out += c));
  for (let i = 0; i < 600 && !/\[BOOT\].*(applied|Applied|in sync|nothing)/i.test(out); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  assert.match(out, /\[BOOT\]/, out);
  const again = await plan({ schemaDir, databaseUrl: db });
  assert.deepEqual(again.statements, [], out);
  // The app was killed without a chance to stop its child: the child stops
  // on its own when the pipe from the app closes.
  const pid = Number(/CHILD (\d+)/.exec(out)?.[1]);
  assert.ok(pid > 0, out);
  let alive = true;
  for (let i = 0; i < 100 && alive; i++) {
    // Gone, or a zombie waiting for whatever adopted it to reap it.
    let stat = "";
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {}
    alive = stat !== "" && !/^\d+ \(.*\) Z/.test(stat);
    if (alive) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(alive, false, `reconcile serve (pid ${pid}) outlived the app`);
});
