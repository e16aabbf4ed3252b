/**
 * The slice of the Node-RED runtime API these nodes use, typed here because
 * the published typings do not build with this compiler. Only glue lives in
 * nodes/; behaviour lives in src/.
 */
import type { ConnectionStatus } from "../src/client/controller-connection.js";
import * as path from "node:path";
import { connectionNodeStatus, flowNodeStatus, type NodeStatus } from "../src/flow/status.js";

export interface NodeMessage {
  _msgid?: string;
  topic?: unknown;
  payload?: unknown;
  [key: string]: unknown;
}

export type Send = (msg: NodeMessage | (NodeMessage | null)[]) => void;
export type Done = (err?: Error) => void;

export interface NodeStatusArg {
  fill?: "red" | "green" | "yellow" | "blue" | "grey";
  shape?: "ring" | "dot";
  text?: string;
}

export interface RedNode {
  id: string;
  name?: string;
  credentials?: Record<string, string | undefined>;
  on(event: "input", listener: (msg: NodeMessage, send: Send, done: Done) => void): void;
  on(event: "close", listener: (removed: boolean, done: () => void) => void): void;
  status(status: NodeStatusArg | Record<string, never>): void;
  error(err: unknown, msg?: NodeMessage): void;
  warn(message: unknown): void;
  log(message: unknown): void;
  send(msg: NodeMessage): void;
}

export interface HttpRequest {
  params: Record<string, string>;
  body?: unknown;
}
export interface HttpResponse {
  status(code: number): HttpResponse;
  json(body: unknown): void;
}
type Handler = (req: HttpRequest, res: HttpResponse) => void;
type Middleware = (req: unknown, res: unknown, next: () => void) => void;

export interface RedRuntime {
  nodes: {
    createNode(node: object, config: object): void;
    registerType(type: string, constructor: Function, options?: { credentials?: Record<string, { type: string }>; settings?: object }): void;
    getNode(id: string): unknown;
  };
  httpAdmin: { get(path: string, permission: Middleware, handler: Handler): void; post(path: string, permission: Middleware, handler: Handler): void };
  auth: { needsPermission(permission: string): Middleware };
  settings: { userDir?: string; [key: string]: unknown };
  _(key: string, params?: Record<string, string>): string;
  log: { warn(m: unknown): void; info(m: unknown): void; error(m: unknown): void };
}

/** Shows a connection state on a node (keys from the "s7-secure-connection.status" block of every catalogue). */
export function showConnectionStatus(RED: RedRuntime, node: RedNode, status: ConnectionStatus): void {
  showStatus(RED, node, connectionNodeStatus(status));
}

/** Shows a status whose key is in the "s7-secure-connection.status" block; no key clears it. */
export function showStatus(RED: RedRuntime, node: RedNode, s: NodeStatus): void {
  if (s.key === undefined) {
    node.status({});
    return;
  }
  const key = `s7-secure-connection.status.${s.key}`;
  node.status({ ...(s.fill ? { fill: s.fill } : {}), ...(s.shape ? { shape: s.shape } : {}), text: s.params ? RED._(key, s.params) : key });
}

/** A number from a node property that may be a string after a hand edit; `fallback` when empty or bad. */
export function numberProperty(value: unknown, fallback: number): number {
  if (value === "" || value === undefined || value === null) return fallback;
  const n = Number(value);
  return Number.isFinite(n) ? n : fallback;
}

/** What a flow node sees of its s7-secure-connection config node. */
export interface ConnectionConfigNode {
  readonly connectionName: string;
  readonly connection: import("../src/client/controller-connection.js").ControllerConnection | undefined;
  /** Why the connection could not be created (bad configuration), if so. */
  readonly configError: Error | undefined;
  /** The connection's tag tables (TIA Portal exports), when it has any. */
  readonly tagTables: import("../src/tags/tia/table-names.js").ConnectionTagTables | undefined;
  /** The controller's types by tag name (one browse per connected period), for table disagreements; undefined when unknown. */
  controllerTypes(): Promise<ReadonlyMap<string, string> | undefined>;
  register(user: RedNode, onStatus: (status: ConnectionStatus) => void): void;
  deregister(user: RedNode): void;
}

export function connectionNodeOf(RED: RedRuntime, id: unknown): ConnectionConfigNode | undefined {
  if (typeof id !== "string" || id === "") return undefined;
  const node = RED.nodes.getNode(id) as Partial<ConnectionConfigNode> | null | undefined;
  return node && typeof node.register === "function" ? (node as ConnectionConfigNode) : undefined;
}

/** `<userDir>/s7-secure/pki` unless a folder is named (relative folders are inside the user directory). */
export function storeDirectory(RED: RedRuntime, configured: string | undefined): string {
  const userDir = RED.settings.userDir ?? process.cwd();
  const dir = (configured ?? "").trim();
  return dir === "" ? path.join(userDir, "s7-secure", "pki") : path.resolve(userDir, dir);
}

/**
 * Registers a flow node with its connection and keeps its status: the
 * node's own last problem (failed tags, a rejected command) — while the
 * connection is up, or always with `ownAlways` — else the connection's
 * state. Returns the setter for the node's own problem (undefined clears it).
 */
export function registerWithStatus(
  RED: RedRuntime,
  node: RedNode,
  owner: ConnectionConfigNode,
  options: { ownAlways?: boolean; onStatus?: (status: ConnectionStatus) => void } = {},
): (own: NodeStatus | undefined) => void {
  let connection: ConnectionStatus | undefined;
  let own: NodeStatus | undefined;
  const render = (): void => {
    if (connection) showStatus(RED, node, options.ownAlways ? (own ?? connectionNodeStatus(connection)) : flowNodeStatus(connection, own));
  };
  owner.register(node, (status) => {
    connection = status;
    render();
    options.onStatus?.(status);
  });
  return (next) => {
    own = next;
    render();
  };
}

/** Logs each disagreement between the tag tables and the controller once per node (a poll does not repeat it). */
export function tableWarnings(node: RedNode): (warnings: readonly string[]) => void {
  const seen = new Set<string>();
  return (warnings) => {
    for (const w of warnings) {
      if (seen.has(w)) continue;
      seen.add(w);
      node.warn(w);
    }
  };
}
