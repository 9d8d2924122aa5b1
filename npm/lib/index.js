// reconcile-pg: the reconcile binary for Node.js, a JS API over its JSON
// output, and the admin endpoints as a handler for Express or node:http.
"use strict";
const { execFile } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { reconcileAdmin } = require("./admin.js");

/** The platform directory this package ships binaries in, e.g. `linux-x64`. */
function platformKey() {
  return `${process.platform}-${process.arch}`;
}

/**
 * The path of the reconcile binary: `RECONCILE_BINARY` when set, else the
 * binary this package ships for this platform. Throws when there is none.
 */
function binaryPath() {
  if (process.env.RECONCILE_BINARY) return process.env.RECONCILE_BINARY;
  const file = path.join(__dirname, "..", "vendor", platformKey(), "reconcile");
  if (!fs.existsSync(file)) {
    const shipped = fs.existsSync(path.join(__dirname, "..", "vendor"))
      ? fs.readdirSync(path.join(__dirname, "..", "vendor")).join(", ")
      : "none";
    throw new Error(
      `this package has no reconcile binary for ${platformKey()} (it ships: ${shipped}); ` +
        "build one with `cargo install --path .` from the source and set RECONCILE_BINARY to its path",
    );
  }
  return file;
}

/** A run of reconcile that did not succeed: its exit code and the JSON it printed. */
class ReconcileError extends Error {
  constructor(command, exitCode, json, stderr) {
    const message =
      (json && typeof json.error === "string" && json.error) ||
      (json && json.blocked && "a change was refused; nothing was applied") ||
      stderr.trim() ||
      `reconcile ${command} exited with ${exitCode}`;
    super(message);
    this.name = "ReconcileError";
    this.command = command;
    this.exitCode = exitCode;
    this.json = json;
    this.stderr = stderr;
  }
}

function commonArgs(options) {
  const args = [];
  if (options.schemaDir !== undefined) args.push("--schema", String(options.schemaDir));
  return args;
}

function run(command, args, options, okCodes) {
  const env = { ...process.env, ...(options.env || {}) };
  // The URL goes by the environment, not the command line, where `ps` would show its password.
  if (options.databaseUrl !== undefined) env.DATABASE_URL = options.databaseUrl;
  return new Promise((resolve, reject) => {
    execFile(
      binaryPath(),
      [command, ...args],
      { env, cwd: options.cwd, maxBuffer: 256 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === "number" ? error.code : null) : 0;
        if (exitCode === null) {
          reject(error);
          return;
        }
        let json = null;
        try {
          json = JSON.parse(stdout);
        } catch {
          json = null;
        }
        if (okCodes.includes(exitCode) && json !== null) resolve(json);
        else reject(new ReconcileError(command, exitCode, json, stderr));
      },
    );
  });
}

/**
 * `reconcile plan --format json`: what would run, what is refused, the plan hash.
 * Resolves with the plan for exit 0 and exit 3 (a plan with refused changes is
 * still a plan: see `refused`); rejects with a ReconcileError otherwise.
 */
function plan(options = {}) {
  return run("plan", ["--format", "json", ...commonArgs(options)], options, [0, 3]);
}

/**
 * `reconcile apply --format json`: applies the plan (never asks). Resolves with
 * the answer on exit 0; rejects with a ReconcileError (exitCode 3 when a change
 * is refused or the plan is not `expectPlan`, 1 on a database error, 2 on bad files).
 */
function apply(options = {}) {
  const args = ["--format", "json", ...commonArgs(options)];
  if (options.online) args.push("--online");
  if (options.expectPlan !== undefined) args.push("--expect-plan", String(options.expectPlan));
  if (options.lockTimeout !== undefined) args.push("--lock-timeout", String(options.lockTimeout));
  return run("apply", args, options, [0]);
}

module.exports = { plan, apply, reconcileAdmin, binaryPath, ReconcileError };
