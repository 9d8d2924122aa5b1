// Types of reconcile-pg: the JSON that `reconcile plan|apply --format json` print.
import type { IncomingMessage, ServerResponse } from "node:http";

/** Where the files are and which database to compare them with. */
export interface Options {
  /** The schema directory: every *.toml under it (default: reconcile's own, `schema`). */
  schemaDir?: string;
  /** Connection URL or keyword string; default DATABASE_URL, then ./.env, then PGHOST, PGPORT, ... */
  databaseUrl?: string;
  /** Working directory of the run (where `.env` is read). */
  cwd?: string;
  /** Extra environment for the run. */
  env?: Record<string, string | undefined>;
}

export interface ApplyOptions extends Options {
  /** Apply in three phases that keep writes flowing (`apply --online`). */
  online?: boolean;
  /** Apply only if the plan's hash is still this one (from `plan().planHash`). */
  expectPlan?: string;
  /** How long a statement may wait for a table lock: `5s`, `500ms`, `1m`; `0` means no limit. */
  lockTimeout?: string;
}

/** Where in the files an object was written. */
export interface Origin {
  file: string;
  line: number;
  column: number;
}

/** One statement of a plan. */
export interface Statement {
  /** Step id, e.g. `create-table:appointments`, `add-column:appointments.notes`. */
  id: string;
  sql: string;
  table?: string;
  /** The strongest table lock it takes, e.g. `ACCESS EXCLUSIVE`. */
  lock: string;
  /** What it does to a busy table, e.g. `blocks writes while it builds`. */
  hazard?: string;
  warning?: string;
  tableRows?: number;
  tableBytes?: number;
  online?: { phase: number; id: string; sql: string; lock: string }[];
  commitFirst?: boolean;
  origin?: Origin;
}

/** A change reconcile refuses, with the way to make it safely. */
export interface Refusal {
  /** `R001` ... `R008`. */
  rule: string;
  object: string;
  message: string;
  safePath: string;
  live?: string;
  desired?: string;
  origin?: Origin;
  /** Where the rule is explained. */
  docs: string;
}

/** An object of the database that the files do not describe: listed, never touched. */
export interface UnmanagedObject {
  kind: string;
  name: string;
}

export interface BusyTable {
  table: string;
  rows?: number;
  bytes?: number;
  steps: string[];
  onlineAvoids: boolean;
}

/** What `plan()` resolves with (`reconcile plan --format json`). */
export interface Plan {
  statements: Statement[];
  refused: Refusal[];
  unmanaged: UnmanagedObject[];
  inSync: string[];
  busyTables: BusyTable[];
  /** A digest of the statements: give it to `apply({ expectPlan })`. */
  planHash: string;
  filesHash?: string;
  appliedFiles?: { historyId: number; filesHash: string; unreadable?: string };
  summary: { statements: number; refused: number; unmanaged: number; inSync: number };
}

/** What `apply()` resolves with (`reconcile apply --format json`), as `POST /__admin/migrate` answers. */
export interface Applied {
  success: true;
  result: {
    executed: string[];
    skipped: string[];
    /** Step id to duration, e.g. `"45ms"`. */
    timings: Record<string, string>;
    totalTime: string;
    planHash: string;
    phases?: { phase: number; executed: string[]; totalTime: string }[];
  };
}

/** The JSON reconcile prints when it fails (`success: false`). */
export interface Failure {
  success: false;
  error: string;
  exitCode?: number;
  blocked?: boolean;
  refused?: Refusal[];
  planHash?: string;
  [key: string]: unknown;
}

/** A run that failed: `exitCode` 1 (database), 2 (files or arguments), 3 (refused; nothing applied). */
export declare class ReconcileError extends Error {
  readonly name: "ReconcileError";
  readonly command: string;
  readonly exitCode: number;
  /** What reconcile printed as JSON, when it printed any. */
  readonly json: Failure | Plan | null;
  readonly stderr: string;
}

/** `reconcile plan`: resolves for exit 0 and 3 (see `refused`); rejects with ReconcileError otherwise. */
export declare function plan(options?: Options): Promise<Plan>;

/** `reconcile apply` (never asks): resolves on success; rejects with ReconcileError otherwise. */
export declare function apply(options?: ApplyOptions): Promise<Applied>;

/** The path of the reconcile binary this package runs (`RECONCILE_BINARY` overrides it). */
export declare function binaryPath(): string;

export interface AdminOptions {
  /** The schema directory (default `schema`, from the working directory). */
  schemaDir?: string;
  /** Default: DATABASE_URL. */
  databaseUrl?: string;
  /** Default: ADMIN_TOKEN (at least 32 characters). */
  adminToken?: string;
  /** Default: RUN_MIGRATIONS_ON_BOOT. */
  runMigrationsOnBoot?: boolean;
  /** Extra environment for `reconcile serve`. */
  env?: Record<string, string | undefined>;
}

/** A handler for Express (`app.use(...)`) or `http.createServer(...)`. */
export interface AdminHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  /** Whether this handler answers a request URL (`/__admin/...`). */
  handles(url: string): boolean;
  /** The process id of the `reconcile serve` child, while it runs. */
  readonly pid: number | undefined;
  /** Stop the `reconcile serve` child; an apply in progress finishes first. */
  close(): Promise<void>;
}

/** The admin endpoints (`/__admin/health`, `/__admin/migrate/dry-run`, ...) on the app's own port. */
export declare function reconcileAdmin(options?: AdminOptions): AdminHandler;
