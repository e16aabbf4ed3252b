/**
 * Connection defaults, in one place: the connection node and its editor
 * dialog (served through the node's exported settings), the command-line
 * tool and the client all take them from here.
 */
export interface ConnectionDefaults {
  /** TCP port of ISO-on-TCP. */
  readonly port: number;
  /** Time allowed for TCP, COTP, TLS and the session set-up together. */
  readonly connectTimeoutMs: number;
  /** Time allowed for one request's response. */
  readonly requestTimeoutMs: number;
  /** First wait before a reconnect attempt. */
  readonly reconnectMinMs: number;
  /** Longest wait between reconnect attempts. */
  readonly reconnectMaxMs: number;
}

export const CONNECTION_DEFAULTS: ConnectionDefaults = Object.freeze({
  port: 102,
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 5000,
  reconnectMinMs: 1000,
  reconnectMaxMs: 30_000,
});
