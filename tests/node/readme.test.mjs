// The README's Node.js blocks, run as a user would run them in their app:
// `sh npm` lines (npx ...), the `js server` Express recipe, the `js api` example.
// tests/it/node.rs runs this file in the throwaway project with reconcile-pg installed.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";

const repo = process.env.RECONCILE_REPO;
const readme = readFileSync(path.join(repo, "README.md"), "utf8");
const token = "r".repeat(40);

/** Fenced blocks: language, tags, text, line. */
function blocks() {
  const out = [];
  const re = /^```(\S*)([^\n]*)\n([\s\S]*?)^```$/gm;
  for (let m; (m = re.exec(readme)); ) {
    out.push({
      lang: m[1],
      tags: m[2].trim().split(/\s+/).filter(Boolean),
      text: m[3],
      line: readme.slice(0, m.index).split("\n").length,
    });
  }
  return out;
}

/** A directory of the app holding a copy of schema/, as a user's app has. */
function appDir() {
  const dir = mkdtempSync(path.join(process.cwd(), "readme-"));
  cpSync(path.join(repo, "schema"), path.join(dir, "schema"), { recursive: true });
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function get(port, p, headers = {}) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: p, headers }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode, body }));
      })
      .on("error", reject);
  });
}

function freePort() {
  return new Promise((resolve) => {
    const s = http.createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

test("every npx line of the README runs", () => {
  const npm = blocks().filter((b) => b.lang === "sh" && b.tags.includes("npm"));
  assert.ok(npm.length >= 1, "no `sh npm` block in the README");
  const dir = appDir();
  let ran = 0;
  for (const b of npm) {
    for (const line of b.text.split("\n").map((l) => l.trim()).filter(Boolean)) {
      if (line.startsWith("npm install reconcile-pg")) continue; // installed from the packed .tgz
      try {
        execFileSync("bash", ["-euo", "pipefail", "-c", line], {
          cwd: dir,
          env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL_README_CLI },
          encoding: "utf8",
          stdio: "pipe",
        });
      } catch (e) {
        assert.fail(`README.md:${b.line}: ${line} exited ${e.status}:\n${e.stdout}\n${e.stderr}`);
      }
      ran++;
    }
  }
  assert.ok(ran >= 3, `only ${ran} lines ran`);
  assert.ok(existsSync(path.join(dir, "shared", "schema.ts")), "codegen wrote no shared/schema.ts");
});

test("the README's Express recipe serves the admin endpoints beside the app's routes", async () => {
  const block = blocks().find((b) => b.lang === "js" && b.tags.includes("server"));
  assert.ok(block, "no `js server` block in the README");
  const dir = appDir();
  writeFileSync(path.join(dir, "server.mjs"), block.text);
  const port = await freePort();
  const child = spawn(process.execPath, ["server.mjs"], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), DATABASE_URL: process.env.DATABASE_URL_README_SERVER, ADMIN_TOKEN: token },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (c) => (log += c));
  child.stderr.on("data", (c) => (log += c));
  after(() => child.kill("SIGTERM"));
  let health;
  for (let i = 0; i < 200 && !health; i++) {
    try {
      health = await get(port, "/__admin/health");
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  assert.ok(health, `README.md:${block.line}: the app did not listen:\n${log}`);
  assert.equal(health.status, 200, health.body);
  assert.equal((await get(port, "/")).body, "hello");
  const dry = await get(port, "/__admin/migrate/dry-run", { authorization: `Bearer ${token}` });
  assert.equal(dry.status, 200, dry.body);
  assert.ok(JSON.parse(dry.body).result.totalSteps > 0, dry.body);
  assert.match(log, /\[BOOT\] Migrations skipped/);
});

test("the README's JS API example runs", () => {
  const block = blocks().find((b) => b.lang === "js" && b.tags.includes("api"));
  assert.ok(block, "no `js api` block in the README");
  const dir = appDir();
  writeFileSync(path.join(dir, "api.mjs"), block.text);
  let out;
  try {
    out = execFileSync(process.execPath, ["api.mjs"], {
      cwd: dir,
      env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL_README_API },
      encoding: "utf8",
      stdio: "pipe",
    });
  } catch (e) {
    assert.fail(`README.md:${block.line}: exited ${e.status}:\n${e.stdout}\n${e.stderr}`);
  }
  assert.match(out, /create-table:appointments: /);
  assert.match(out, /\d+ statements in \d+ms/);
});
