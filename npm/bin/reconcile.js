#!/usr/bin/env node
// The `reconcile` command of the npm package: runs the binary shipped in this
// package with the same arguments, standard streams and exit code. Signals
// that a platform sends the Node process on deploy (SIGTERM) or a terminal
// (SIGINT, SIGHUP) are passed on, so `npx reconcile serve` stops gracefully.
"use strict";
const { spawn } = require("node:child_process");
const { binaryPath } = require("../lib/index.js");

let binary;
try {
  binary = binaryPath();
} catch (e) {
  process.stderr.write(`reconcile: ${e.message}\n`);
  process.exit(1);
}
const child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("error", (e) => {
  process.stderr.write(`reconcile: cannot run ${binary}: ${e.message}\n`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
