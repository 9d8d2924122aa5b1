// The admin endpoints (`/__admin/*`) inside a Node.js app. One implementation
// of the endpoints exists, `reconcile serve`: this handler runs it as a child
// listening on a Unix socket in a private directory (no second port) and
// forwards each `/__admin` request to it, so the app's own port answers
// exactly as `reconcile serve` does.
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

// Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, not the answer.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function isAdminPath(url) {
  return url === "/__admin" || url.startsWith("/__admin/") || url.startsWith("/__admin?");
}

function connectable(socketPath) {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/**
 * A request handler for `/__admin/*`: `app.use(reconcileAdmin({ schemaDir }))`
 * in Express, or `http.createServer(reconcileAdmin(...))` (other paths then
 * answer 404). Starts `reconcile serve` at once, so `RUN_MIGRATIONS_ON_BOOT`
 * and the `[BOOT]` lines happen when the app starts.
 */
function reconcileAdmin(options = {}) {
  const { binaryPath } = require("./index.js");
  const schemaDir = path.resolve(options.schemaDir ?? "schema");
  let child = null;
  let ready = null;
  let socketDir = null;
  let stopping = false;

  function start() {
    socketDir = fs.mkdtempSync(path.join(os.tmpdir(), "reconcile-admin-"));
    const socketPath = path.join(socketDir, "serve.sock");
    const env = { ...process.env, ...(options.env || {}) };
    if (options.databaseUrl !== undefined) env.DATABASE_URL = options.databaseUrl;
    if (options.adminToken !== undefined) env.ADMIN_TOKEN = options.adminToken;
    if (options.runMigrationsOnBoot !== undefined)
      env.RUN_MIGRATIONS_ON_BOOT = String(options.runMigrationsOnBoot);
    const args = ["serve", "--schema", schemaDir, "--listen", `unix:${socketPath}`, "--until-stdin-closes"];
    const started = spawn(binaryPath(), args, { env, stdio: ["pipe", "inherit", "inherit"] });
    child = started;
    // Neither keeps the app alive; when the app's process ends, the pipe
    // closes and the server stops (--until-stdin-closes), whatever ended it.
    started.unref();
    started.stdin.unref?.();
    started.stdin.on("error", () => {});
    const dir = socketDir;
    const exited = new Promise((resolve) => started.once("exit", resolve));
    started.once("error", (e) => {
      process.stderr.write(`reconcile-pg: cannot run ${binaryPath()}: ${e.message}\n`);
    });
    exited.then((code) => {
      if (child === started) {
        child = null;
        ready = null;
      }
      fs.rm(dir, { recursive: true, force: true }, () => {});
      if (!stopping) process.stderr.write(`reconcile-pg: reconcile serve exited (${code}); it is started again on the next request\n`);
    });
    ready = (async () => {
      for (let i = 0; ; i++) {
        if (await connectable(socketPath)) return socketPath;
        const gone = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), Math.min(10 * 2 ** i, 200)))]);
        if (gone) throw new Error("reconcile serve exited before it listened (see its log above)");
      }
    })();
    ready.catch(() => {});
    return ready;
  }

  function forward(req, res, url, socketPath) {
    const headers = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(name)) headers[name] = value;
    }
    if (!headers["x-forwarded-proto"]) headers["x-forwarded-proto"] = req.socket.encrypted ? "https" : "http";
    const peer = req.socket.remoteAddress;
    if (peer) headers["x-forwarded-for"] = headers["x-forwarded-for"] ? `${headers["x-forwarded-for"]}, ${peer}` : peer;
    const upstream = http.request({ socketPath, method: req.method, path: url, headers }, (answer) => {
      const raw = [];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) {
        if (!HOP_BY_HOP.has(answer.rawHeaders[i].toLowerCase())) raw.push(answer.rawHeaders[i], answer.rawHeaders[i + 1]);
      }
      // Express adds X-Powered-By before any middleware runs: the answer is serve's own.
      res.removeHeader?.("x-powered-by");
      res.writeHead(answer.statusCode, answer.statusMessage, raw);
      answer.pipe(res);
    });
    upstream.on("error", (e) => fail(res, `reconcile serve did not answer: ${e.message}`));
    req.pipe(upstream);
  }

  function fail(res, message) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.removeHeader?.("x-powered-by");
    res.writeHead(502, { "content-type": "application/json" });
    res.end(JSON.stringify({ success: false, error: message }));
  }

  function handler(req, res, next) {
    // Express rewrites req.url under a mount path; the endpoints' paths are absolute.
    const url = req.originalUrl ?? req.url;
    if (!isAdminPath(url)) {
      if (typeof next === "function") return next();
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("Not Found\n");
      return;
    }
    stopping = false;
    let answering;
    try {
      answering = ready ?? start();
    } catch (e) {
      answering = Promise.reject(e);
    }
    answering.then(
      (socketPath) => forward(req, res, url, socketPath),
      (e) => fail(res, e.message),
    );
  }

  /** Whether a request URL is one this handler answers (`/__admin/...`). */
  handler.handles = (url) => isAdminPath(url);
  /** The process id of the `reconcile serve` child, while it runs. */
  Object.defineProperty(handler, "pid", { get: () => child?.pid, enumerable: true });
  /** Stop the `reconcile serve` child (gracefully: an apply in progress finishes). */
  handler.close = () => {
    stopping = true;
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      c.once("exit", () => resolve());
      c.kill("SIGTERM");
    });
  };
  try {
    start();
  } catch (e) {
    process.stderr.write(`reconcile-pg: ${e.message}\n`);
  }
  return handler;
}

module.exports = { reconcileAdmin };
